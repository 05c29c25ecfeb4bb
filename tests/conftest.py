"""Shared fixtures: the 2018 synthetic datasets, loaded once per test session."""

import pytest


@pytest.fixture(scope="session")
def dk2018():
    from barometer import dataset

    return dataset.load("2018", "dk")


@pytest.fixture(scope="session")
def no2018():
    from barometer import dataset

    return dataset.load("2018", "no")
