"""
A cache of this process's memory that keeps its values as they are, not
pickled: for values that never change once stored (the reading pages' kept
bodies, annotations.reading.bodies, tuples of bytes that can weigh
megabytes), which Django's ``LocMemCache`` would copy twice on every read by
pickling them. The rest (expiry, culling, the lock, the least recently used
first out) is ``LocMemCache``'s.
"""

from django.core.cache.backends import locmem


class ImmutableObjectCache(locmem.LocMemCache):
    def add(self, key, value, timeout=locmem.DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._set(key, value, timeout)
                return True
            return False

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            self._cache.move_to_end(key, last=False)
            return self._cache[key]

    def set(self, key, value, timeout=locmem.DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            self._set(key, value, timeout)

    def incr(self, key, delta=1, version=None):
        raise NotImplementedError("values kept as they are are not counters")
