"""Only what pyproject.toml cannot say: the model zoo in specs/ ships inside the package as
`paramcalc/zoo/` (package data), so that `paramcalc summary zoo:lenet5` works once installed while
the repository keeps a single copy of the specs where its README, tests and CI read them.
Everything else (metadata, dependencies, entry point) is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["paramcalc", "paramcalc.*"]), "paramcalc.zoo"],
    package_dir={"paramcalc.zoo": "specs"},
    package_data={"paramcalc.zoo": ["*.yaml"], "paramcalc": ["data/*.json"]},  # data/: the --device presets
)
