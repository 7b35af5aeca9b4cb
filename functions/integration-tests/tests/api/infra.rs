//! `infra/template.yaml` against the code: every function binary has exactly one resource and
//! one route, every server function is served by the function its route points to, and each
//! function's IAM policy allows exactly the DynamoDB actions and indexes (and SES sending) it
//! declares.
//!
//! A function declares the store operations it runs and whether it sends mail (`ACCESS` in its
//! server module); each store operation declares its DynamoDB actions and indexes
//! (`store::Operation`). The code is held to both as it runs: a function's store refuses an
//! operation the function does not declare, and (in debug builds) an operation's handle a call it
//! does not declare, so the integration tests, which run every operation, prove them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use api::server::Access;
use serde_yaml::Value;
use store::Operation;

use crate::spawn_app;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Function {
    binary: String,
    routes: Vec<String>,
    dynamodb_actions: BTreeSet<String>,
    dynamodb_resources: Vec<String>,
    sends_mail: bool,
    /// The secrets it may read (their `!Sub` ARNs, as text).
    secrets_read: Vec<String>,
    /// Its own environment variables (beyond the template's Globals), as text.
    environment: String,
}

/// Every `AWS::Serverless::Function` in the template.
fn template_functions() -> Vec<Function> {
    let text = std::fs::read_to_string(devkit::template_path()).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let mut out = Vec::new();
    for (_, res) in doc["Resources"].as_mapping().unwrap() {
        if res["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = res["Metadata"]["BuildProperties"]["Binary"].as_str().expect("Binary").to_owned();
        let routes = res["Properties"]["Events"]
            .as_mapping()
            .map(|events| {
                events
                    .values()
                    .filter(|e| e["Type"] == "HttpApi")
                    .map(|e| e["Properties"]["Path"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let (mut dynamodb_actions, mut dynamodb_resources, mut sends_mail, mut secrets_read) =
            (BTreeSet::new(), Vec::new(), false, Vec::new());
        for policy in res["Properties"]["Policies"].as_sequence().unwrap() {
            for statement in policy["Statement"].as_sequence().unwrap() {
                let actions: Vec<String> = match &statement["Action"] {
                    Value::String(a) => vec![a.clone()],
                    Value::Sequence(list) => list.iter().map(|a| a.as_str().unwrap().to_owned()).collect(),
                    other => panic!("unexpected Action {other:?}"),
                };
                let resources: Vec<String> = statement["Resource"]
                    .as_sequence()
                    .map(|list| list.iter().map(|r| format!("{r:?}")).collect())
                    .unwrap_or_default();
                for action in actions {
                    match action.split_once(':') {
                        Some(("secretsmanager", "GetSecretValue")) => secrets_read.extend(resources.clone()),
                        Some(("dynamodb", name)) => {
                            dynamodb_actions.insert(name.to_owned());
                        }
                        Some(("ses", "SendEmail")) => sends_mail = true,
                        _ => panic!("{binary}: unexpected action {action}"),
                    }
                }
                if let Some(resources) = statement["Resource"].as_sequence() {
                    dynamodb_resources.extend(resources.iter().map(|r| format!("{r:?}")));
                }
            }
        }
        let environment = format!("{:?}", res["Properties"]["Environment"]);
        out.push(Function {
            binary,
            routes,
            dynamodb_actions,
            dynamodb_resources,
            sends_mail,
            secrets_read,
            environment,
        });
    }
    out
}

/// What a function's code declares it reaches (its server module's `ACCESS`).
fn declared(binary: &str) -> Access {
    match binary {
        "auth" => api::server::auth::ACCESS,
        "enrollment" => api::server::enroll::ACCESS,
        "remote" => api::server::remote::ACCESS,
        "accounts" => api::server::accounts::ACCESS,
        other => panic!("unknown function {other}"),
    }
}

/// The table's indexes a policy's resources name (`${Table.Arn}/index/<name>`).
fn indexes_in(resources: &[String]) -> BTreeSet<String> {
    resources
        .iter()
        .filter_map(|r| r.split_once("/index/"))
        .map(|(_, rest)| rest.chars().take_while(|c| c.is_alphanumeric()).collect())
        .collect()
}

#[test]
fn every_function_binary_has_exactly_one_resource_and_one_route() {
    let functions = template_functions();
    let binaries: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("src/main.rs").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let in_template: Vec<&str> = functions.iter().map(|f| f.binary.as_str()).collect();
    assert_eq!(in_template.len(), binaries.len(), "{in_template:?} vs {binaries:?}");
    assert_eq!(in_template.iter().map(|b| b.to_string()).collect::<BTreeSet<_>>(), binaries);
    for f in &functions {
        assert_eq!(f.routes.len(), 1, "{}: {:?}", f.binary, f.routes);
        assert!(f.routes[0].starts_with("/api/") && f.routes[0].ends_with("/{proxy+}"), "{:?}", f.routes);
    }
}

#[tokio::test]
async fn every_server_function_is_served_by_the_function_its_route_points_to() {
    let app = spawn_app().await;
    let functions = template_functions();
    fn group_of(binary: &str) -> &str {
        if binary == "enrollment" { "enroll" } else { binary }
    }
    let paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p).collect();
    assert!(paths.len() >= 20, "{paths:?}");
    for path in paths {
        let routed: Vec<&Function> =
            functions.iter().filter(|f| path.starts_with(f.routes[0].trim_end_matches("{proxy+}"))).collect();
        assert_eq!(routed.len(), 1, "{path} is routed to {} functions", routed.len());
        // The routed function's own router runs it (any answer but "no such call").
        let name = path.trim_start_matches("/api/");
        assert!(name.starts_with(&format!("{}/", group_of(&routed[0].binary))), "{path}");
        let reply = app.call(name, serde_json::json!({})).await;
        let text = reply.body.to_string();
        assert!(
            !text.contains("no such API call") && !text.contains("Could not find a server function"),
            "{path} is not served by {}: {text}",
            routed[0].binary
        );
    }
}

#[test]
fn each_function_may_do_exactly_what_it_declares() {
    for f in template_functions() {
        let access = declared(&f.binary);
        let operations: Vec<Operation> =
            access.store_operations.iter().flat_map(|list| list.iter()).copied().collect();
        let actions: BTreeSet<String> =
            operations.iter().flat_map(|op| op.actions()).map(|action| action.to_string()).collect();
        assert_eq!(f.dynamodb_actions, actions, "{}: IAM (left) vs declared (right)", f.binary);
        let indexes: BTreeSet<String> =
            operations.iter().flat_map(|op| op.indexes()).map(|index| index.to_string()).collect();
        assert_eq!(indexes_in(&f.dynamodb_resources), indexes, "{}: indexes, IAM vs declared", f.binary);
        assert_eq!(f.sends_mail, access.sends_mail, "{}: ses:SendEmail", f.binary);
    }
}

fn template() -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(devkit::template_path()).unwrap()).unwrap()
}

fn distribution(doc: &Value) -> &Value {
    let (_, res) = doc["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::CloudFront::Distribution")
        .expect("a CloudFront distribution");
    &res["Properties"]["DistributionConfig"]
}

/// The `/api/*` behaviour and the origin it sends to.
fn api_behaviour(doc: &Value) -> (&Value, &Value) {
    let config = distribution(doc);
    let behaviour = config["CacheBehaviors"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|b| b["PathPattern"] == "/api/*")
        .expect("an /api/* behaviour");
    let origin = config["Origins"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|o| o["Id"] == behaviour["TargetOriginId"])
        .expect("the API origin");
    (behaviour, origin)
}

/// The resource a `!Ref` (a YAML tag) names.
fn referenced<'a>(doc: &'a Value, reference: &Value) -> &'a Value {
    let Value::Tagged(tagged) = reference else { panic!("expected a !Ref, got {reference:?}") };
    assert_eq!(tagged.tag, "!Ref");
    &doc["Resources"][tagged.value.as_str().unwrap()]
}

#[test]
fn cloudfront_forwards_the_viewer_address_and_adds_the_secret_the_functions_check() {
    use api::server::http::{ORIGIN_SECRET_HEADER, VIEWER_ADDRESS_HEADER};
    let doc = template();
    let (behaviour, origin) = api_behaviour(&doc);
    let policy = referenced(&doc, &behaviour["OriginRequestPolicyId"]);
    assert_eq!(policy["Type"], "AWS::CloudFront::OriginRequestPolicy");
    let config = &policy["Properties"]["OriginRequestPolicyConfig"];
    let headers: Vec<String> = config["HeadersConfig"]["Headers"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_ascii_lowercase())
        .collect();
    for needed in [VIEWER_ADDRESS_HEADER, "origin"] {
        assert!(headers.contains(&needed.to_owned()), "{needed} is not forwarded: {headers:?}");
    }
    assert_eq!(config["CookiesConfig"]["CookieBehavior"], "all", "the session cookie reaches the API");
    let custom: Vec<String> = origin["OriginCustomHeaders"]
        .as_sequence()
        .expect("the API origin adds the origin secret")
        .iter()
        .map(|h| h["HeaderName"].as_str().unwrap().to_ascii_lowercase())
        .collect();
    assert_eq!(custom, [ORIGIN_SECRET_HEADER]);
    // The value comes from Secrets Manager, never from the template itself.
    assert!(
        format!("{:?}", origin["OriginCustomHeaders"][0]["HeaderValue"]).contains("resolve:secretsmanager")
    );
}

#[test]
fn an_api_error_reaches_the_browser_with_its_own_status() {
    let doc = template();
    let config = distribution(&doc);
    // Error mappings apply to every behaviour: with one, a 403 from the API would reach the app
    // as a 200 HTML page.
    assert!(
        config["CustomErrorResponses"].is_null(),
        "CustomErrorResponses would rewrite API errors: {:?}",
        config["CustomErrorResponses"]
    );
    let (behaviour, _) = api_behaviour(&doc);
    assert!(behaviour["FunctionAssociations"].is_null(), "no function rewrites /api/* answers");
}

fn resources_of_type<'a>(doc: &'a Value, kind: &str) -> Vec<(&'a Value, &'a Value)> {
    doc["Resources"].as_mapping().unwrap().iter().filter(|(_, r)| r["Type"] == kind).collect()
}

#[test]
fn the_table_survives_a_stack_delete_and_a_replacing_change() {
    let doc = template();
    let tables = resources_of_type(&doc, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1);
    let table = tables[0].1;
    assert_eq!(table["DeletionPolicy"], "Retain");
    assert_eq!(table["UpdateReplacePolicy"], "Retain");
    assert_eq!(table["Properties"]["DeletionProtectionEnabled"], true);
}

#[test]
fn the_api_is_throttled_and_a_new_account_can_deploy_it() {
    let doc = template();
    let (_, api) = resources_of_type(&doc, "AWS::Serverless::HttpApi")[0];
    let route = &api["Properties"]["DefaultRouteSettings"];
    let (rate, burst) = (route["ThrottlingRateLimit"].as_u64(), route["ThrottlingBurstLimit"].as_u64());
    assert!(matches!((rate, burst), (Some(r), Some(b)) if r > 0 && b >= r), "{route:?}");
    // Reserved concurrency only when asked for: a new account's quota of 10 cannot reserve any.
    assert_eq!(doc["Parameters"]["ReservedConcurrency"]["Default"], "");
    for (name, function) in resources_of_type(&doc, "AWS::Serverless::Function") {
        let reserved = format!("{:?}", function["Properties"]["ReservedConcurrentExecutions"]);
        assert!(reserved.contains("HasReservedConcurrency"), "{name:?}: {reserved}");
    }
}

#[test]
fn server_errors_the_functions_answer_themselves_raise_an_alarm() {
    let doc = template();
    let alarms = resources_of_type(&doc, "AWS::CloudWatch::Alarm");
    let api_5xx = alarms.iter().any(|(_, a)| {
        a["Properties"]["Namespace"] == "AWS/ApiGateway" && a["Properties"]["MetricName"] == "5xx"
    });
    assert!(api_5xx, "a 503 'try again' is not a Lambda error: the API's 5xx must be watched");
    for (name, _) in resources_of_type(&doc, "AWS::Serverless::Function") {
        let watched = alarms.iter().any(|(_, a)| {
            a["Properties"]["MetricName"] == "Errors"
                && format!("{:?}", a["Properties"]["Dimensions"]).contains(name.as_str().unwrap())
        });
        assert!(watched, "{name:?} has no error alarm");
    }
}

#[test]
fn the_optional_waf_limits_each_address() {
    let doc = template();
    let (_, acl) = resources_of_type(&doc, "AWS::WAFv2::WebACL")[0];
    assert_eq!(acl["Condition"], "HasWaf");
    assert_eq!(acl["Properties"]["Scope"], "CLOUDFRONT");
    let rule = &acl["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"];
    assert_eq!(rule["AggregateKeyType"], "IP");
    assert!(format!("{:?}", distribution(&doc)["WebACLId"]).contains("HasWaf"));
}

#[test]
fn every_answer_carries_the_security_headers_and_a_csp_without_inline_code() {
    let doc = template();
    let config = distribution(&doc);
    let (api, _) = api_behaviour(&doc);
    for behaviour in [&config["DefaultCacheBehavior"], api] {
        let policy = referenced(&doc, &behaviour["ResponseHeadersPolicyId"]);
        assert_eq!(policy["Type"], "AWS::CloudFront::ResponseHeadersPolicy");
    }
    let policy = referenced(&doc, &api["ResponseHeadersPolicyId"]);
    let headers = &policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"];
    assert!(headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"].as_u64().unwrap() >= 31_536_000);
    assert_eq!(headers["ReferrerPolicy"]["ReferrerPolicy"], "no-referrer");
    assert_eq!(headers["FrameOptions"]["FrameOption"], "DENY");
    assert!(!headers["ContentTypeOptions"].is_null());
    let csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"].as_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.split(';').any(|d| d.trim() == directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{csp}");
}

#[test]
fn secrets_are_read_at_cold_start_only_by_the_functions_that_use_them() {
    let doc = template();
    let globals = format!("{:?}", doc["Globals"]);
    assert!(!globals.contains("resolve:secretsmanager"), "a secret's value in the functions' environment");
    for f in template_functions() {
        assert!(
            !f.environment.contains("resolve:secretsmanager"),
            "{}: a secret's value in its environment",
            f.binary
        );
        let main =
            std::fs::read_to_string(root().join("functions").join(&f.binary).join("src/main.rs")).unwrap();
        let needs_keys = main.contains("TotpKeys::Needed");
        assert!(
            needs_keys || main.contains("TotpKeys::NotNeeded"),
            "{}: says whether it needs the key ring",
            f.binary
        );
        let reads = |name: &str| f.secrets_read.iter().any(|r| r.contains(&format!("secret:${{{name}}}-")));
        assert!(reads("OriginSecretName"), "{}: cannot read the origin secret", f.binary);
        assert_eq!(reads("TotpKeysSecretName"), needs_keys, "{}: TOTP key ring access vs code", f.binary);
        assert_eq!(
            f.environment.contains("TOTP_KEYS_SECRET_ID"),
            needs_keys,
            "{}: TOTP_KEYS_SECRET_ID",
            f.binary
        );
        assert_eq!(f.secrets_read.len(), 1 + usize::from(needs_keys), "{}: {:?}", f.binary, f.secrets_read);
    }
}

/// The same code that runs at cold start, against the local Secrets Manager the stack filled.
#[tokio::test]
async fn a_function_reads_its_secrets_from_secrets_manager_at_start() {
    use api::server::{Config, TotpKeys};
    let vault = secrets::Secrets::from_env().await;
    let with_keys = Config::load(&vault, TotpKeys::Needed).await.expect("secrets readable");
    let origin = std::env::var("ORIGIN_SECRET").expect("the stack's origin secret");
    assert!(with_keys.origin_secret.matches(origin.as_bytes()));
    let local = domain::crypto::Keyring::parse(&std::env::var("TOTP_KEYS").unwrap()).unwrap();
    let sealed = local.seal(b"a totp secret", "someone");
    assert_eq!(with_keys.totp_keys().unwrap().open(&sealed, "someone").unwrap(), b"a totp secret");
    let without = Config::load(&vault, TotpKeys::NotNeeded).await.unwrap();
    assert!(without.totp_keys.is_none(), "a function that needs no key ring gets none");
    assert!(format!("{without:?}").contains("<redacted>") && !format!("{with_keys:?}").contains(&origin));
}
