import pytest

from oidc_spa.store import FallbackStorage, MemoryStorage


class BlockedStorage:
    """Like localStorage in a browser that blocks site data: every access throws."""

    def getItem(self, key):
        raise PermissionError("blocked")

    setItem = removeItem = getItem


class FullStorage(MemoryStorage):
    """Reads and removals work; writes exceed the quota."""

    def setItem(self, key, value):
        raise OSError("QuotaExceededError")


def test_writes_go_to_the_first_storage_that_accepts_them():
    local, tab, memory = MemoryStorage(), MemoryStorage(), MemoryStorage()
    storage = FallbackStorage([local, tab, memory])
    storage.setItem("k", "v")
    assert local.items == {"k": "v"} and tab.items == {} and memory.items == {}
    assert storage.level == 0


def test_a_full_storage_hands_over_and_keeps_no_stale_copy():
    full, tab = FullStorage(), MemoryStorage()
    full.items["k"] = "old"
    storage = FallbackStorage([full, tab, MemoryStorage()])
    storage.setItem("k", "new")
    assert storage.getItem("k") == "new"
    assert "k" not in full.items
    assert storage.level == 1


def test_a_blocked_storage_is_skipped_for_reads_writes_and_removals():
    memory = MemoryStorage()
    storage = FallbackStorage([BlockedStorage(), BlockedStorage(), memory])
    assert storage.getItem("k") is None
    storage.setItem("k", "v")
    assert storage.getItem("k") == "v"
    assert storage.level == 2
    storage.removeItem("k")
    assert memory.items == {}


def test_reading_from_a_less_durable_storage_lowers_the_level():
    tab = MemoryStorage()
    tab.items["k"] = "v"
    storage = FallbackStorage([MemoryStorage(), tab])
    assert storage.getItem("k") == "v"
    assert storage.level == 1


def test_when_nothing_accepts_a_write_it_fails_loudly():
    with pytest.raises(OSError):
        FallbackStorage([FullStorage()]).setItem("k", "v")
