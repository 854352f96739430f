#!/usr/bin/env python3
"""Build a database with the REAL django-nets-core 0.2.30 and describe it in a manifest.

The Rust importer (`import-django`) is tested against what this writes:

    python3 -m venv /tmp/django-venv
    /tmp/django-venv/bin/pip install -r tests/django/requirements.txt
    /tmp/django-venv/bin/python tests/django/make_fixture.py \
        --database sqlite:///tmp/x.sqlite3 --manifest /tmp/manifest.json
    /tmp/django-venv/bin/python tests/django/make_fixture.py \
        --database postgres://postgres@127.0.0.1:5432/django_fixture --manifest /tmp/manifest.json

SQLite: the file is deleted first. PostgreSQL: the database is dropped (WITH FORCE) and
created again through the server's `postgres` maintenance database.

Django runs in-process with fixture_site/settings.py (apps: auth, contenttypes, sessions,
oauth2_provider, nets_core, shop), runs the real migrations, then creates the rows with
the library's own models and helpers (nets_core.models, nets_core.security,
oauth2_provider.models). The manifest is read back from the database afterwards, so it
describes exactly what is stored. Every timestamp is fixed (auto_now/auto_now_add columns
are pinned with an UPDATE after creation), so two runs give the same manifest except for
the values listed under "volatile" (uuids, client ids, tokens, salted hashes).
"""

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone as dt_timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
MANIFEST_FORMAT = 1

UTC = dt_timezone.utc


def at(text):
    """A fixed aware UTC datetime from 'YYYY-MM-DDTHH:MM:SS[.ffffff]'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Every created/updated column is pinned to this instant after the rows are made.
PINNED_CREATED = at("2024-05-01T10:00:00")
PINNED_UPDATED = at("2024-05-02T11:30:00.250000")

# Plaintext secrets: recorded in the manifest so the importer's verification can be tested.
PASSWORDS = {
    "admin@example.com": "admin-Pass-1",
    "alice@example.com": "alice-Pass-2",
    "bob@example.com": None,  # unusable password ("!" + 40 random characters)
    "carol@example.com": "carol-Pass-4",
}
DEBUG_VERIFICATION_CODE = "123456"  # nets_core's fixed code when settings.DEBUG


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True,
                        help="sqlite:///abs/path.sqlite3 or postgres://user@host:port/dbname")
    parser.add_argument("--manifest", required=True, help="where to write the JSON manifest")
    parser.add_argument("--verbose", action="store_true", help="show Django's migrate output")
    return parser.parse_args()


def reset_database(url):
    """Delete the SQLite file, or drop and create the PostgreSQL database."""
    if url.startswith("sqlite:"):
        path = url[len("sqlite:"):]
        while path.startswith("//"):
            path = path[1:]
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.remove(path + suffix)
            except FileNotFoundError:
                pass
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return "sqlite"
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"unsupported database URL: {url!r}")
    import psycopg
    from psycopg import sql

    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise SystemExit("the PostgreSQL URL names no database")
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or "") or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return "postgresql"


def setup_django(url):
    sys.dont_write_bytecode = True  # keep tests/django free of __pycache__
    sys.path.insert(0, str(HERE))
    os.environ["DJANGO_SETTINGS_MODULE"] = "fixture_site.settings"
    os.environ["NETS_FIXTURE_DATABASE_URL"] = url
    # nets_core.firebase_messages initialises firebase_admin at import when this is set.
    os.environ.pop("FIREBASE_CONFIG", None)
    import django

    django.setup()


def create_fixtures():
    """Create every row with the library's own models and helpers. Returns plaintexts."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import AccessToken, Application
    from oauthlib import common

    from nets_core import security
    from nets_core.models import (
        EmailTemplate,
        Permission,
        Role,
        RolePermission,
        UserDevice,
        UserRole,
        VerificationCode,
    )
    from shop.models import Project, ProjectMember, ProjectRole

    User = get_user_model()
    secrets = {}

    with transaction.atomic():
        # --- users ---------------------------------------------------------------
        admin = User.objects.create_superuser(
            username="admin", email="admin@example.com", password=PASSWORDS["admin@example.com"],
            first_name="Ada", last_name="Admin", email_verified=True,
            date_joined=at("2024-01-01T08:00:00"), last_login=at("2024-06-01T12:00:00"),
        )
        alice = User.objects.create_user(
            username="alice", email="alice@example.com", password=PASSWORDS["alice@example.com"],
            first_name="Alice", last_name="Muñoz", email_verified=True,
            date_joined=at("2024-02-01T09:00:00"), last_login=at("2024-06-02T13:14:15.123456"),
        )
        bob = User.objects.create_user(
            username="bob", email="bob@example.com", password=None,  # -> unusable password
            first_name="Bob", last_name="Inactive", email_verified=True, is_active=False,
            date_joined=at("2024-03-01T10:00:00"), last_login=at("2024-03-05T07:45:00"),
        )
        carol = User.objects.create_user(
            username="carol", email="carol@example.com", password=PASSWORDS["carol@example.com"],
            email_verified=False,
            date_joined=at("2024-04-01T11:00:00.500000"), last_login=None,
        )

        # --- devices (uuid: the model's uuid4 default) -----------------------------
        pixel = UserDevice.objects.create(
            user=alice, name="Alice's Pixel", os="android", os_version="14", app_version="2.3.1",
            device_type="phone", device_token="device-token-alice-pixel",
            firebase_token="fcm-token-alice-pixel", active=True,
            last_login=at("2024-06-02T13:14:15.123456"), ip="203.0.113.7",
        )
        UserDevice.objects.create(
            user=alice, name="Old iPad", os="ios", os_version="15.1", app_version="1.0.0",
            device_type="tablet", device_token="device-token-alice-ipad",
            firebase_token="fcm-token-alice-ipad", active=False,
            last_login=at("2023-12-24T18:00:00"), ip="198.51.100.23",
        )
        UserDevice.objects.create(
            user=admin, name="Admin laptop", os="linux", device_type="web",
            device_token=None, firebase_token=None, active=True, last_login=None, ip=None,
        )

        # A verification code the way nets_core issues one (token = make_password(code)).
        VerificationCode.objects.create(user=alice, device=pixel, ip="203.0.113.7")

        # --- OAuth2 applications --------------------------------------------------
        plain_secret = generate_client_secret()
        mobile = Application.objects.create(
            name="Mobile app (plaintext secret)", user=admin,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_PASSWORD,
            client_secret=plain_secret, hash_client_secret=False,
        )
        hashed_secret = generate_client_secret()
        web = Application.objects.create(
            name="Web app (hashed secret)", user=admin,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris="https://app.example.com/oauth/callback",
            client_secret=hashed_secret,  # hash_client_secret defaults to True
        )
        secrets[mobile.client_id] = plain_secret
        secrets[web.client_id] = hashed_secret

        # --- permissions and roles --------------------------------------------------
        approve = Permission.objects.create(
            codename="Invoice.Approve", name="Approve invoices",
            description="May approve an invoice for payment",
        )  # stored as "invoice.approve" (Permission.save lower-cases codename)
        view = Permission.objects.create(codename="invoice.view", name="")  # name <- codename

        accountant = Role.objects.create(
            name="Accountant", codename="ACCOUNTANT", description="Books and invoices",
        )  # codename stored as "accountant"
        RolePermission.objects.create(role=accountant, permission=approve,
                                      custom_name="Approve (accounting)")
        RolePermission.objects.create(role=accountant, permission=view)

        auditor = Role.objects.create(
            name="Auditor", codename="auditor", description="Read-only, disabled", enabled=False,
        )
        auditor.permissions.add(view)  # through RolePermission, custom_name NULL

        apollo = Project.objects.create(name="Apollo")
        gemini = Project.objects.create(name="Gemini")

        # Project-scoped role through the library's helpers: Role "editor_<project id>"
        # with codename "" and description "", project = Apollo.
        security.get_or_create_project_role_permission(
            apollo, "editor", "report.export", description="Export project reports",
        )  # creates Permission "report.export" (name "Report.export")
        security.get_or_create_project_role_permission(apollo, "editor", "invoice.view")

        # --- grants -----------------------------------------------------------------
        UserRole.objects.create(user=alice, role=accountant)  # global
        security.add_user_to_role(alice, apollo, "editor")  # project role in Apollo
        UserRole.objects.create(user=carol, role=accountant, project=gemini)  # global role, in Gemini
        UserRole.objects.create(user=bob, role=auditor)  # global, disabled role, inactive user

        # --- project membership (the app's own ProjectMember model) --------------------
        owner = ProjectRole.objects.create(name="owner")
        member = ProjectRole.objects.create(name="member")
        ProjectMember.objects.create(user=admin, project=apollo, role=owner, is_superuser=True)
        ProjectMember.objects.create(user=alice, project=apollo, role=member)
        ProjectMember.objects.create(user=carol, project=gemini, role=member)
        ProjectMember.objects.create(user=bob, project=gemini, role=member, enabled=False)

        # --- e-mail templates (owned by the superuser) ---------------------------------
        EmailTemplate.objects.create(
            user=admin, name="verification-code", use_for="verification_code", enabled=True,
            html_body="<p>Hola {{ user.first_name }}, tu código es <b>{{ button_link.label }}</b></p>",
            text_body="Hola {{ user.first_name }}, tu código es {{ button_link.label }}",
        )
        EmailTemplate.objects.create(
            user=admin, name="apollo-weekly-digest", use_for="other", enabled=False,
            project=apollo,
            html_body="<h1>{{ project }}</h1>\n<p>Weekly digest</p>",
            text_body="{{ project }}\nWeekly digest",
        )

        # --- tokens ---------------------------------------------------------------------
        # nets_core's own issuing path: AccessToken + RefreshToken, token from oauthlib.
        security.generate_tokens(alice, mobile, expires=at("2099-12-31T23:59:59"))
        AccessToken.objects.create(  # expired, no refresh token
            user=admin, application=web, token=common.generate_token(),
            expires=at("2024-01-02T00:00:00"), scope="read write",
        )

    pin_timestamps()
    return secrets


def pin_timestamps():
    """Overwrite the auto_now/auto_now_add columns so every run stores the same instants."""
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.app_label not in ("nets_core", "oauth2_provider"):
            continue
        names = {f.name for f in model._meta.concrete_fields}
        values = {}
        if "created" in names:
            values["created"] = PINNED_CREATED
        if "updated" in names:
            values["updated"] = PINNED_UPDATED
        if values:
            model.objects.all().update(**values)  # QuerySet.update: no save(), no signals


def iso(value):
    return None if value is None else value.astimezone(UTC).isoformat()


def project_ref(ct, object_id):
    if ct is None:
        return None
    return {"content_type_id": ct.id, "app_label": ct.app_label, "model": ct.model,
            "id": object_id}


def build_manifest(vendor, database_url, secrets):
    import django
    import oauth2_provider
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import get_hasher
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from importlib.metadata import version
    from oauth2_provider.models import AccessToken, Application, RefreshToken

    from nets_core.models import (
        EmailTemplate,
        Permission,
        Role,
        RolePermission,
        UserDevice,
        UserRole,
        VerificationCode,
    )
    from shop.models import Project, ProjectMember, ProjectRole

    User = get_user_model()
    fixture_codenames = {"invoice.approve", "invoice.view", "report.export"}
    hasher = get_hasher("default")

    manifest = {
        "format": MANIFEST_FORMAT,
        "generator": {
            "django-nets-core": version("django-nets-core"),
            "Django": django.get_version(),
            "django-oauth-toolkit": oauth2_provider.__version__,
            "python": ".".join(map(str, sys.version_info[:3])),
        },
        "database": {"vendor": vendor, "url": database_url, "name": str(connection.settings_dict["NAME"])},
        "settings": {
            "AUTH_USER_MODEL": settings.AUTH_USER_MODEL,
            "user_table": User._meta.db_table,
            "USERNAME_FIELD": User.USERNAME_FIELD,
            "NETS_CORE_PROJECT_MODEL": settings.NETS_CORE_PROJECT_MODEL,
            "NETS_CORE_PROJECT_MEMBER_MODEL": settings.NETS_CORE_PROJECT_MEMBER_MODEL,
            "TIME_ZONE": settings.TIME_ZONE,
            "USE_TZ": settings.USE_TZ,
            "password_hasher": hasher.algorithm,
            "pbkdf2_iterations": getattr(hasher, "iterations", None),
        },
        "datetime_format": "ISO 8601 in UTC (Python isoformat: 'YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00')",
        "pinned_timestamps": {"created": iso(PINNED_CREATED), "updated": iso(PINNED_UPDATED)},
        "volatile": [
            "users[].password",
            "devices[].uuid",
            "applications[].client_id",
            "applications[].client_secret",
            "applications[].client_secret_stored",
            "verification_codes[].token",
            "access_tokens[].token",
            "access_tokens[].token_checksum",
            "access_tokens[].client_id",
            "access_tokens[].refresh_token",
            "refresh_tokens[].token",
            "refresh_tokens[].access_token",
        ],
    }

    manifest["content_types"] = [
        {"id": ct.id, "app_label": ct.app_label, "model": ct.model}
        for ct in ContentType.objects.order_by("id")
    ]

    manifest["users"] = [
        {
            "id": u.id,
            "email": u.email,
            "username": u.username,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "is_active": u.is_active,
            "is_staff": u.is_staff,
            "is_superuser": u.is_superuser,
            "email_verified": u.email_verified,
            "last_login": iso(u.last_login),
            "date_joined": iso(u.date_joined),
            "password": u.password,
            "password_usable": u.has_usable_password(),
            "password_plaintext": PASSWORDS.get(u.email),
        }
        for u in User.objects.order_by("id")
    ]

    manifest["devices"] = [
        {
            "id": d.id,
            "uuid": str(d.uuid),
            "user_id": d.user_id,
            "user_email": d.user.email,
            "name": d.name,
            "os": d.os,
            "os_version": d.os_version,
            "app_version": d.app_version,
            "device_type": d.device_type,
            "device_token": d.device_token,
            "firebase_token": d.firebase_token,
            "active": d.active,
            "last_login": iso(d.last_login),
            "ip": d.ip,
            "created": iso(d.created),
            "updated": iso(d.updated),
        }
        for d in UserDevice.objects.select_related("user").order_by("id")
    ]

    manifest["verification_codes"] = [
        {
            "id": v.id,
            "user_id": v.user_id,
            "device_id": v.device_id,
            "token": v.token,
            "code_plaintext": DEBUG_VERIFICATION_CODE,
            "verified": v.verified,
            "ip": v.ip,
        }
        for v in VerificationCode.objects.order_by("id")
    ]

    manifest["applications"] = [
        {
            "id": a.id,
            "name": a.name,
            "client_id": a.client_id,
            "client_secret": secrets[a.client_id],
            "client_secret_stored": a.client_secret,
            "hash_client_secret": a.hash_client_secret,
            "client_type": a.client_type,
            "authorization_grant_type": a.authorization_grant_type,
            "redirect_uris": a.redirect_uris,
            "skip_authorization": a.skip_authorization,
            "algorithm": a.algorithm,
            "user_id": a.user_id,
            "created": iso(a.created),
            "updated": iso(a.updated),
        }
        for a in Application.objects.order_by("id")
    ]

    manifest["permissions"] = [
        {
            "id": p.id,
            "codename": p.codename,
            "name": str(p.name),
            "description": p.description,
            "source": "fixture" if p.codename in fixture_codenames else "nets_core post_migrate",
        }
        for p in Permission.objects.order_by("id")
    ]

    manifest["roles"] = [
        {
            "id": r.id,
            "name": r.name,
            "codename": r.codename,
            "description": r.description,
            "enabled": r.enabled,
            "project": project_ref(r.project_content_type, r.project_id),
            "permissions": [rp.permission.codename
                            for rp in RolePermission.objects.filter(role=r).select_related("permission").order_by("id")],
        }
        for r in Role.objects.select_related("project_content_type").order_by("id")
    ]

    manifest["role_permissions"] = [
        {
            "id": rp.id,
            "role_id": rp.role_id,
            "permission_id": rp.permission_id,
            "permission_codename": rp.permission.codename,
            "custom_name": rp.custom_name,
        }
        for rp in RolePermission.objects.select_related("permission").order_by("id")
    ]

    manifest["user_roles"] = [
        {
            "id": ur.id,
            "user_id": ur.user_id,
            "user_email": ur.user.email,
            "role_id": ur.role_id,
            "role_name": ur.role.name,
            "project": project_ref(ur.project_content_type, ur.project_id),
        }
        for ur in UserRole.objects.select_related("user", "role", "project_content_type").order_by("id")
    ]

    manifest["projects"] = [{"id": p.id, "name": p.name} for p in Project.objects.order_by("id")]
    manifest["project_roles"] = [{"id": r.id, "name": r.name} for r in ProjectRole.objects.order_by("id")]
    manifest["project_members"] = [
        {
            "id": m.id,
            "user_id": m.user_id,
            "user_email": m.user.email,
            "project_id": m.project_id,
            "role_id": m.role_id,
            "role_name": m.role.name,
            "enabled": m.enabled,
            "is_superuser": m.is_superuser,
        }
        for m in ProjectMember.objects.select_related("user", "role").order_by("id")
    ]

    manifest["email_templates"] = [
        {
            "id": t.id,
            "name": t.name,
            "use_for": t.use_for,
            "enabled": t.enabled,
            "html_body": t.html_body,
            "text_body": t.text_body,
            "user_id": t.user_id,
            "project": project_ref(t.project_content_type, t.project_id),
        }
        for t in EmailTemplate.objects.select_related("project_content_type").order_by("id")
    ]

    refresh_by_access = {rt.access_token_id: rt.token for rt in RefreshToken.objects.all()}
    manifest["access_tokens"] = [
        {
            "id": t.id,
            "token": t.token,
            "token_checksum": t.token_checksum,
            "user_id": t.user_id,
            "application_id": t.application_id,
            "client_id": t.application.client_id,
            "expires": iso(t.expires),
            "expired": t.is_expired(),
            "scope": t.scope,
            "refresh_token": refresh_by_access.get(t.id),
        }
        for t in AccessToken.objects.select_related("application").order_by("id")
    ]
    manifest["refresh_tokens"] = [
        {
            "id": t.id,
            "token": t.token,
            "user_id": t.user_id,
            "application_id": t.application_id,
            "access_token_id": t.access_token_id,
            "access_token": t.access_token.token if t.access_token_id else None,
            "revoked": iso(t.revoked),
        }
        for t in RefreshToken.objects.select_related("access_token").order_by("id")
    ]
    return manifest


def main():
    args = parse_args()
    started = time.monotonic()
    vendor = reset_database(args.database)
    setup_django(args.database)

    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=1 if args.verbose else 0, interactive=False)
    migrated = time.monotonic()
    secrets = create_fixtures()
    manifest = build_manifest(vendor, args.database, secrets)
    connection.close()

    out = Path(args.manifest)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    done = time.monotonic()
    print(
        f"make_fixture: {vendor} database {manifest['database']['name']} ready, manifest {out} "
        f"({len(manifest['users'])} users, {len(manifest['applications'])} applications, "
        f"{len(manifest['permissions'])} permissions, {len(manifest['roles'])} roles); "
        f"migrate {migrated - started:.1f}s, fixtures {done - migrated:.1f}s, total {done - started:.1f}s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
