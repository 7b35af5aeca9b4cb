"""The HTTP API routes, read from infra/template.yaml: the one definition shared with AWS."""

from pathlib import Path

from cfnlint.decode import decode

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"


def routes(template: Path = TEMPLATE) -> list[tuple[str, str, str]]:
    """(method, path prefix, function binary) for every HttpApi event in the template."""
    doc, errors = decode(str(template))
    if errors:
        raise SystemExit(f"{template}: {errors}")
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
