"""Every environment-variable name, header name and default of the package, in one place.

An explicit argument always beats the environment variable named here.
"""

# Environment variables read by this package.
ENV_ALLOWED_MODELS = "PORTKEY_BEDROCK_ALLOWED_MODELS"
ENV_GATEWAY_URL = "PORTKEY_GATEWAY_URL"
# Where the gateway sends Bedrock calls instead of AWS (a VPC endpoint, or the local double).
ENV_CUSTOM_HOST = "PORTKEY_BEDROCK_CUSTOM_HOST"
ENV_CATALOG_OVERLAY = "PORTKEY_BEDROCK_CATALOG"  # the catalog overlay `catalog sync` writes
ENV_AWS_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
ENV_AWS_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"
ENV_AWS_SESSION_TOKEN = "AWS_SESSION_TOKEN"
ENV_AWS_REGION = "AWS_REGION"
ENV_AWS_DEFAULT_REGION = "AWS_DEFAULT_REGION"
ENV_AWS_ENDPOINT_URL = "AWS_ENDPOINT_URL"
ENV_SOPS_AGE_KEY = "SOPS_AGE_KEY"
ENV_SOPS_AGE_KEY_FILE = "SOPS_AGE_KEY_FILE"
ENV_SOPS_AGE_RECIPIENTS = "SOPS_AGE_RECIPIENTS"
ENV_SOPS_KMS_ARN = "SOPS_KMS_ARN"
ENV_XDG_CONFIG_HOME = "XDG_CONFIG_HOME"
# Where an app finds its SOPS env file (read by the README's snippets; printed by `local.aws env`).
ENV_SOPS_FILE = "PORTKEY_BEDROCK_SOPS_FILE"

# The flat env JSON kept in Secrets Manager and in secrets/env.json, in this order.
SECRET_ENV_KEYS = (ENV_AWS_ACCESS_KEY_ID, ENV_AWS_SECRET_ACCESS_KEY, ENV_AWS_REGION)

# Exit statuses of the command-line tools (0: done; 1: the tool's own "failed" / "drift").
EXIT_USAGE = 2  # bad input: a wrong argument, file or setting (argparse uses 2 too)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what `yes | head` reports

DEFAULT_REGION = "us-east-1"
DEFAULT_GATEWAY_URL = "http://localhost:8787/v1"

# Portkey gateway headers for the native `bedrock` provider.
HEADER_PROVIDER = "x-portkey-provider"
HEADER_AWS_ACCESS_KEY_ID = "x-portkey-aws-access-key-id"
HEADER_AWS_SECRET_ACCESS_KEY = "x-portkey-aws-secret-access-key"
HEADER_AWS_SESSION_TOKEN = "x-portkey-aws-session-token"
HEADER_AWS_REGION = "x-portkey-aws-region"
HEADER_TRACE_ID = "x-portkey-trace-id"
HEADER_METADATA = "x-portkey-metadata"
HEADER_CUSTOM_HOST = "x-portkey-custom-host"
HEADER_CONFIG = "x-portkey-config"
HEADER_PREFIX = "x-portkey-"
PROVIDER_BEDROCK = "bedrock"
# apiKey mode: the gateway sends `Authorization: Bearer <short-term Bedrock API key>` to Bedrock.
HEADER_AWS_AUTH_TYPE = "x-portkey-aws-auth-type"
HEADER_AUTHORIZATION = "authorization"
AWS_AUTH_TYPE_API_KEY = "apiKey"  # the gateway's value, in headers and in config targets
# `auth=` of portkey_headers / portkey_config: SigV4 with the IAM secret, or a short-term API key.
AUTH_SIGV4 = "sigv4"
AUTH_API_KEY = "api-key"
AUTH_MODES = (AUTH_SIGV4, AUTH_API_KEY)
DEFAULT_API_KEY_TTL_SECONDS = 3600
MAX_API_KEY_TTL_SECONDS = 43200  # Bedrock's limit for short-term keys: 12 hours

# Header values that are secrets: redacted in every display.
SECRET_HEADERS = frozenset({HEADER_AWS_SECRET_ACCESS_KEY, HEADER_AWS_SESSION_TOKEN, HEADER_AUTHORIZATION})
# Any header whose lower-cased name contains one of these is never shown or recorded (the double, the
# load harness): covers other tools' headers too (x-amz-security-token, x-api-key, cookie).
SECRET_HEADER_WORDS = ("secret", "token", "authorization", "password", "api-key", "cookie")

# Retry defaults for x-portkey-config (the gateway allows at most 5 attempts).
DEFAULT_RETRY_ATTEMPTS = 3
MAX_RETRY_ATTEMPTS = 5
DEFAULT_RETRY_STATUS_CODES = (429, 500, 502, 503, 504)

# CloudFormation output names of the stack: `stacks` writes them, `runtime secrets pull` and the
# demo read them. Stable; documented in the README.
OUTPUT_USER_NAME = "UserName"
OUTPUT_USER_ARN = "UserArn"
OUTPUT_ROLE_ARN = "RoleArn"  # principal=role|both: the invoke role to assume
OUTPUT_POLICY_ARN = "PolicyArn"
OUTPUT_SECRET_ARN = "SecretArn"
OUTPUT_KMS_KEY_ARN = "KmsKeyArn"
OUTPUT_REGION = "Region"
OUTPUT_MODEL_IDS = "ModelIds"
OUTPUT_SOURCE_REGIONS = "SourceRegions"  # comma list: where the key may call Bedrock from
DEFAULT_STACK_NAME = "PortkeyBedrockAccess"
OUTPUT_ACCESS_KEY_SERIAL = "AccessKeySerial"
# Compact JSON of the deployed settings (never a secret): the baseline of every later deploy.
OUTPUT_CONFIG = "Config"

# SOPS files (runtime/sops, `python -m runtime secrets`).
SOPS_CONFIG_FILE = ".sops.yaml"
SECRETS_DIR = "secrets"
DEFAULT_SECRETS_FILE = "secrets/env.json"
SECRETS_PATH_REGEX = r"secrets/.*\.json$"

# Names read or set for the AWS SDK, the CDK CLI and jsii (values are decided where they are used).
ENV_AWS_PROFILE = "AWS_PROFILE"
ENV_HOME = "HOME"
ENV_CDK_DEFAULT_REGION = "CDK_DEFAULT_REGION"
ENV_CDK_DEFAULT_ACCOUNT = "CDK_DEFAULT_ACCOUNT"
ENV_CDK_DISABLE_CLI_TELEMETRY = "CDK_DISABLE_CLI_TELEMETRY"
ENV_CDK_DISABLE_VERSION_CHECK = "CDK_DISABLE_VERSION_CHECK"
ENV_CDK_VALIDATION = "CDK_VALIDATION"  # "false" (cdk synth --no-validation) skips schema validation
ENV_JSII_SILENCE_DEPRECATED_NODE = "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"
ENV_JSII_SILENCE_END_OF_LIFE_NODE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"

# What the Portkey gateway answers on GET / when it is up (doctor checks it, local.gateway waits for it).
GATEWAY_GREETING = "AI Gateway says hey!"
# What stands in for a secret value wherever one would be shown (repr, headers, logs).
REDACTED = "<redacted>"
