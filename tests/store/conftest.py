from tests.store.dbfixture import database_url, store

__all__ = ["database_url", "store"]
