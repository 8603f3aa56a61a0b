"""Test helpers shared by the apps' test suites (the browser kit lives in `browser`)."""
