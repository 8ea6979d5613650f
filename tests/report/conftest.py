def pytest_configure(config):
    config.addinivalue_line("markers", "slow: end-to-end runs of the demo (a few seconds); "
                                       "deselect with -m 'not slow'")
