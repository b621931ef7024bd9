"""CloudFormation custom resource (via ``custom_resources.Provider``): run the migrations.

On Create/Update: ``alembic upgrade head`` as the schema owner (the cluster's master user,
whose credentials are in ``SERVICEDESK_MIGRATION_DATABASE_SECRET_ARN``), connecting straight to the
cluster writer (not through RDS Proxy, which only admits the app role with IAM auth). Then make
sure the app role's password is the one in its secret, which RDS Proxy uses to log in as it.
On Delete: nothing (the cluster's removal policy decides what happens to the data).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE / "migrations"
PHYSICAL_ID = "servicedesk-migrations"


def _secret(arn: str) -> dict[str, Any]:
    client = boto3.client("secretsmanager")
    value: dict[str, Any] = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    return value


def _url(secret: dict[str, Any], host: str, database: str) -> str:
    user = quote_plus(str(secret["username"]))
    password = quote_plus(str(secret["password"]))
    port = secret.get("port", 5432)
    return f"postgresql+psycopg://{user}:{password}@{host}:{port}/{database}?sslmode=require"


def _reset_settings_cache() -> None:
    """Settings may be cached from an earlier invocation in this container; drop them."""
    try:
        from servicedesk.platform import config as sd_config
    except ImportError:
        return
    for name in ("get_settings", "settings"):
        cache_clear = getattr(getattr(sd_config, name, None), "cache_clear", None)
        if callable(cache_clear):
            cache_clear()


def _upgrade(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    ini = HERE / "alembic.ini"
    cfg = Config(str(ini)) if ini.is_file() else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url  # migrations/env.py reads it before any setting
    os.environ["SERVICEDESK_MIGRATION_DATABASE_URL"] = url
    _reset_settings_cache()
    command.upgrade(cfg, "head")


def _sync_app_password(owner_url: str, host: str, database: str) -> None:
    """Give the app role the password in its secret, unless it already logs in with it."""
    import psycopg
    from psycopg import sql

    app = _secret(os.environ["SERVICEDESK_DATABASE_SECRET_ARN"])
    user, password = str(app["username"]), str(app["password"])
    port = int(app.get("port", 5432))
    try:
        with psycopg.connect(
            host=host, port=port, dbname=database, user=user, password=password, sslmode="require"
        ):
            return
    except psycopg.OperationalError:
        logger.info("app role cannot log in with its secret yet; setting its password")
    plain_owner = owner_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain_owner, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
        if exists is None:
            logger.warning("role %s does not exist: no migration creates it yet", user)
            return
        conn.execute(
            sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                sql.Identifier(user), sql.Literal(password)
            )
        )


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    request = event.get("RequestType")
    logger.info("migrations custom resource: %s", request)
    if request == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_ID)}

    if not (MIGRATIONS / "env.py").is_file():
        logger.warning("no migrations/env.py in this bundle: nothing to run")
        return {"PhysicalResourceId": PHYSICAL_ID}

    host = os.environ["SERVICEDESK_DATABASE_HOST"]
    database = os.environ["SERVICEDESK_DATABASE_NAME"]
    owner = _secret(os.environ["SERVICEDESK_MIGRATION_DATABASE_SECRET_ARN"])
    owner_url = _url(owner, host, database)
    _upgrade(owner_url)
    _sync_app_password(owner_url, host, database)
    logger.info("migrations at head")
    return {"PhysicalResourceId": PHYSICAL_ID}
