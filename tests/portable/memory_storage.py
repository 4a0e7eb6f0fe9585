"""Storage for the portable tests: the three methods of the Web Storage API that
oidc_spa.portable calls (getItem, setItem, removeItem), kept in a dict.

Plain Python that MicroPython runs too (these tests run on both interpreters).
"""


class MemoryStorage:
    def __init__(self, items=None):
        self.items = dict(items or {})
        self.writes = []

    def getItem(self, key):
        return self.items.get(key)

    def setItem(self, key, value):
        # localStorage keeps text only, as the page's storage does.
        self.items[key] = str(value)
        self.writes.append(key)

    def removeItem(self, key):
        self.items.pop(key, None)


class CountingRandom:
    """A deterministic stand-in for random_bytes(n): 0, 1, 2, ... (mod 256), so a test
    can say which bytes each of state, nonce and code_verifier got."""

    def __init__(self, start=0):
        self.next = start
        self.calls = []

    def __call__(self, count):
        self.calls.append(count)
        data = bytes((self.next + i) % 256 for i in range(count))
        self.next += count
        return data
