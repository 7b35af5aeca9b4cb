"""The HTTP API routes, read from infra/template.yaml: the one definition shared with AWS."""

from pathlib import Path

from cfnlint.decode import decode

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"


def load(template: Path = TEMPLATE) -> dict:
    doc, errors = decode(str(template))
    if errors:
        raise SystemExit(f"{template}: {errors}")
    return doc


def origin_secret_header(template: Path = TEMPLATE) -> str:
    """The header CloudFront adds to every request it sends to the API origin."""
    for res in load(template).get("Resources", {}).values():
        if res.get("Type") != "AWS::CloudFront::Distribution":
            continue
        for origin in res["Properties"]["DistributionConfig"]["Origins"]:
            for header in origin.get("OriginCustomHeaders", []):
                return header["HeaderName"]
    raise SystemExit(f"{template}: no CloudFront origin custom header")


def security_headers(template: Path = TEMPLATE) -> list[tuple[str, str]]:
    """The headers the template's CloudFront response headers policy adds to every answer."""
    for res in load(template).get("Resources", {}).values():
        if res.get("Type") != "AWS::CloudFront::ResponseHeadersPolicy":
            continue
        config = res["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
        headers = []
        if hsts := config.get("StrictTransportSecurity"):
            value = f"max-age={hsts['AccessControlMaxAgeSec']}"
            value += "; includeSubDomains" if hsts.get("IncludeSubdomains") else ""
            value += "; preload" if hsts.get("Preload") else ""
            headers.append(("Strict-Transport-Security", value))
        if csp := config.get("ContentSecurityPolicy"):
            headers.append(("Content-Security-Policy", csp["ContentSecurityPolicy"]))
        if "ContentTypeOptions" in config:
            headers.append(("X-Content-Type-Options", "nosniff"))
        if frame := config.get("FrameOptions"):
            headers.append(("X-Frame-Options", frame["FrameOption"]))
        if referrer := config.get("ReferrerPolicy"):
            headers.append(("Referrer-Policy", referrer["ReferrerPolicy"]))
        return headers
    raise SystemExit(f"{template}: no CloudFront response headers policy")


def routes(template: Path = TEMPLATE) -> list[tuple[str, str, str]]:
    """(method, path prefix, function binary) for every HttpApi event in the template."""
    doc = load(template)
    found = []
    for name, res in doc.get("Resources", {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        binary = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        for event in res.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") != "HttpApi":
                continue
            path = event["Properties"]["Path"]
            if not path.endswith("/{proxy+}"):
                raise SystemExit(f"{name}: route {path} must end in /{{proxy+}}")
            if not binary:
                raise SystemExit(f"{name}: Metadata.BuildProperties.Binary is missing")
            found.append((event["Properties"].get("Method", "ANY").upper(), path[: -len("{proxy+}")], binary))
    return found


if __name__ == "__main__":
    for method, prefix, binary in routes():
        print(method, prefix, binary)
