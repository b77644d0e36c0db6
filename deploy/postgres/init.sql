-- One PostgreSQL server, three databases: Dagster metadata, the DuckLake catalog, operations
-- (alerts outbox, camera leases). Run once by the postgres image on an empty volume.
CREATE DATABASE dagster;
CREATE DATABASE pantau_lake;
CREATE DATABASE pantau_ops;
