"""`qagen lti ...`: register qagen in learning platforms (LMSs) over LTI 1.3 (docs/lti.md).

These talk to Redis directly, like `qagen keys`: run them where the API's settings are
(QAGEN_REDIS_URL). They need the server side (`pip install 'qagen[api]'`).
"""

from __future__ import annotations

import click


def _redis():
    from qagen.redis_client import redis_from_settings
    from qagen.settings import get_settings

    return redis_from_settings(get_settings())


@click.group()
def lti() -> None:
    """Register qagen in an LMS over LTI 1.3 (Moodle, Canvas, Brightspace: docs/lti.md)."""


@lti.command("add-platform")
@click.option("--issuer", required=True, help="The platform's issuer (Moodle: its wwwroot; Canvas: "
                                               "https://canvas.instructure.com).")
@click.option("--client-id", required=True, help="The client id the platform gave qagen.")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization URL.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 access token URL.")
@click.option("--key-set-url", required=True, help="The platform's public keyset (JWKS) URL.")
@click.option("--deployment-id", required=True, help="The deployment id the platform shows for qagen.")
@click.option("--tenant", required=True, help="The qagen tenant launches from this deployment work in.")
@click.option("--frame-origin", "frame_origins", multiple=True, metavar="URL",
              help="An origin allowed to show qagen in a frame (repeatable); default: the issuer's and the "
                   "authorization URL's.")
def add_platform(issuer: str, client_id: str, auth_login_url: str, auth_token_url: str, key_set_url: str,
                 deployment_id: str, tenant: str, frame_origins: tuple[str, ...]) -> None:
    """Register a platform's deployment of qagen, for TENANT (adds a deployment to a known one)."""
    from qagen.lti.keys import tool_key_pair
    from qagen.lti.registry import PlatformStore

    redis = _redis()
    try:
        platform = PlatformStore(redis).add(issuer, client_id, auth_login_url, auth_token_url, key_set_url,
                                            deployment_id, tenant, list(frame_origins))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    tool_key_pair(redis)  # the platform may fetch the tool's JWKS as soon as it is configured
    click.echo(f"Registered {platform.issuer} (client id {platform.client_id}), deployment {deployment_id} -> "
               f"tenant {tenant}. Deployments: {len(platform.deployments)}.")


@lti.command("list-platforms")
def list_platforms() -> None:
    """List the registered platforms, their deployments and tenants."""
    from qagen.lti.registry import PlatformStore

    for platform in PlatformStore(_redis()).all():
        deployments = ", ".join(f"{d} -> {t}" for d, t in sorted(platform.deployments.items())) or "none"
        click.echo(f"{platform.issuer}  client {platform.client_id}  deployments: {deployments}")


@lti.command("remove-platform")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--deployment-id", default=None, help="Remove only this deployment; default: the whole registration.")
def remove_platform(issuer: str, client_id: str, deployment_id: str | None) -> None:
    """Remove a registration, or one of its deployments: their launches are refused from then on."""
    from qagen.lti.registry import PlatformStore

    if not PlatformStore(_redis()).remove(issuer, client_id, deployment_id):
        raise click.ClickException("No such registration" + (f" or deployment {deployment_id!r}" if deployment_id
                                                              else "") + f" for {issuer} and client {client_id}.")
    click.echo("Removed.")


@lti.command("rotate-key")
def rotate_key() -> None:
    """Replace the tool's key pair (platforms fetch the new public key from /lti/jwks.json)."""
    from qagen.lti.keys import rotate

    rotate(_redis())
    click.echo("The tool's key pair is replaced; /lti/jwks.json serves the new public key.")
