"""A primary/replica router, as sites with read replicas configure one (tests/test_cache_replica.py)."""


class ReadReplicaRouter:
    def db_for_read(self, model, **hints):
        return "replica"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True
