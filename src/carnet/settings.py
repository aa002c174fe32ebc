"""One Settings object, read from CARNET_* environment variables."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from enum import StrEnum
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from carnet.kit.crypto import (
    KeyProvider,
    SealingKey,
    generate_master_key_text,
    key_provider_from_file,
    parse_master_keys,
)
from carnet.kit.errors import ConfigurationError


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


def default_data_dir() -> Path:
    return platformdirs.user_data_path("carnet")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARNET_", extra="ignore")

    env: Environment = Environment.DEV
    database_url: SecretStr | None = None
    database_role: str = Field(default="carnet_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    data_dir: Path = Field(default_factory=default_data_dir)
    master_key: SecretStr | None = None
    master_key_file: Path | None = None
    audit_sealing_key: SecretStr | None = None
    audit_sealing_key_file: Path | None = None
    audit_public_key: str | None = None
    max_document_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    # Days a requested destruction waits, while the patient may cancel it; at most 60, so that the daily job
    # carries it out within the three months SPEC §2 promises.
    destruction_cooling_off_days: int = Field(default=30, ge=0, le=60)
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, gt=0, lt=65536)
    smtp_sender: str = "Carnet <ne-pas-repondre@carnet.localhost>"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, gt=0, lt=65536)
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks,
    # comma-separated). None by default: the address a client connects from is the one the throttle and the
    # audit trail see, whatever headers it sends.
    trusted_proxies: str = ""
    # Where people and software reach Carnet; the built-in token issuer names itself by it.
    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    token_audience: str = "carnet-api"  # noqa: S105 (the "aud" tokens must carry, not a secret)
    token_signing_key: SecretStr | None = None
    token_signing_key_file: Path | None = None
    token_lifetime_seconds: int = Field(default=600, ge=30, le=3600)
    # An external OpenID Connect issuer whose tokens Carnet also accepts (the national professional IdP).
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None
    # The portal's sign-in of professionals through that issuer (authorization code + PKCE, identity.oidc).
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_url: str | None = None  # default: <public_url>/staff/oidc/callback
    oidc_scope: str = "openid"
    oidc_rpps_claim: str = "rpps"
    oidc_profession_claim: str = "profession"
    oidc_organisation_claim: str = "organisation"
    # Session cookies carry the Secure flag unless this is turned off (plain-HTTP development only).
    cookie_secure: bool = True

    @model_validator(mode="after")
    def _production_needs_external_database(self) -> Settings:
        if self.env is Environment.PRODUCTION and self.database_url is None:
            raise ValueError("CARNET_DATABASE_URL is required in production (the embedded server is for dev)")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for entry in _entries(value):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"CARNET_TRUSTED_PROXIES: '{entry[:64]}' is not an IP address or network (10.0.0.5, 10.0.0.0/24)"
                ) from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """The proxies to believe, as uvicorn's forwarded_allow_ips takes them; empty: believe none."""
        return _entries(self.trusted_proxies)

    @property
    def dev_master_key_file(self) -> Path:
        """Where `carnet demo` keeps the development master key it generates."""
        return self.data_dir / "dev-master.key"

    def sealing_key(self) -> SealingKey:
        """The Ed25519 key that signs audit seals (base64 of a 32-byte seed); refuse to seal without one."""
        if self.audit_sealing_key is not None:
            return SealingKey.from_text(self.audit_sealing_key.get_secret_value(), source="CARNET_AUDIT_SEALING_KEY")
        path = self.audit_sealing_key_file or self.development_key(self.dev_sealing_key_file)
        if path is not None:
            try:
                text = path.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigurationError(f"The audit sealing key file cannot be read: {exc}.") from None
            return SealingKey.from_text(text, source=str(path))
        raise ConfigurationError(
            "No audit sealing key: set CARNET_AUDIT_SEALING_KEY or CARNET_AUDIT_SEALING_KEY_FILE "
            "(`carnet keys generate` makes one)."
        )

    def seal_public_key(self) -> bytes | None:
        """The key seals are checked with: CARNET_AUDIT_PUBLIC_KEY, else the sealing key's, else none."""
        if self.audit_public_key:
            try:
                return base64.b64decode(self.audit_public_key, validate=True)
            except (binascii.Error, ValueError):
                raise ConfigurationError("CARNET_AUDIT_PUBLIC_KEY is not valid base64.") from None
        if self.audit_sealing_key is not None or self.audit_sealing_key_file is not None:
            return self.sealing_key().public()
        if self.development_key(self.dev_sealing_key_file) is not None:
            return self.sealing_key().public()
        return None

    @model_validator(mode="after")
    def _external_issuer_needs_its_keys(self) -> Settings:
        if (self.oidc_issuer is None) != (self.oidc_jwks_url is None):
            raise ValueError("CARNET_OIDC_ISSUER and CARNET_OIDC_JWKS_URL go together")
        if self.oidc_client_id is not None and (self.oidc_issuer is None or self.oidc_client_secret is None):
            raise ValueError("CARNET_OIDC_CLIENT_ID needs CARNET_OIDC_ISSUER and CARNET_OIDC_CLIENT_SECRET")
        if self.env is Environment.PRODUCTION and not self.cookie_secure:
            raise ValueError("CARNET_COOKIE_SECURE cannot be turned off in production")
        return self

    def token_key(self) -> SealingKey:
        """The Ed25519 key the built-in issuer signs access tokens with; a development key outside production."""
        if self.token_signing_key is not None:
            return SealingKey.from_text(
                self.token_signing_key.get_secret_value(), source="CARNET_TOKEN_SIGNING_KEY", what="token signing key"
            )
        path = self.token_signing_key_file
        if path is None:
            if self.env is Environment.PRODUCTION:
                raise ConfigurationError(
                    "No token signing key: set CARNET_TOKEN_SIGNING_KEY or CARNET_TOKEN_SIGNING_KEY_FILE "
                    "(`carnet keys generate` makes one)."
                )
            path = ensure_key_file(self.data_dir / "dev-token-signing.key")
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"The token signing key file cannot be read: {exc}.") from None
        return SealingKey.from_text(text, source=str(path), what="token signing key")

    @property
    def dev_sealing_key_file(self) -> Path:
        return self.data_dir / "dev-audit-sealing.key"

    def key_provider(self) -> KeyProvider:
        """The master keys, from CARNET_MASTER_KEY or CARNET_MASTER_KEY_FILE; refuse to run without one."""
        if self.master_key is not None:
            return parse_master_keys(self.master_key.get_secret_value(), source="CARNET_MASTER_KEY")
        if self.master_key_file is not None:
            return key_provider_from_file(self.master_key_file)
        development = self.development_key(self.dev_master_key_file)
        if development is not None:
            return key_provider_from_file(development)
        raise ConfigurationError(
            "No master key: set CARNET_MASTER_KEY (base64 of 32 random bytes, `carnet keys generate` makes "
            "one) or CARNET_MASTER_KEY_FILE. `carnet demo` creates a development key by itself."
        )

    def development_key(self, path: Path) -> Path | None:
        """The key file `carnet demo` made, outside production only: so the README's commands run in a
        second terminal beside the demo with no variable to set. Production never falls back to a file."""
        if self.env is Environment.PRODUCTION or not path.is_file():
            return None
        return path


def _entries(text: str) -> list[str]:
    return [entry.strip() for entry in text.split(",") if entry.strip()]


def ensure_key_file(path: Path) -> Path:
    """A development key file, created with a fresh random key (readable by its owner only) if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path  # another process made it first
        with os.fdopen(descriptor, "w") as handle:
            handle.write(generate_master_key_text() + "\n")
    return path


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        raise ConfigurationError(f"Invalid configuration: {exc}") from None
