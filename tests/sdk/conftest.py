"""The SDK's live tests use the e2e suite's real service process."""

from tests.e2e.conftest import service  # noqa: F401 - re-exported fixture
