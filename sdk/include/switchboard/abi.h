/*
 * switchboard/abi.h — the C ABI between the Switchboard host and a plugin.
 *
 * This is the whole binary contract. Nothing but the plain C types below crosses the boundary:
 * no C++ standard library type, no Boost type, no vtable, no exception. A plugin exports one
 * symbol (see SB_PLUGIN_EXPORT_NAME) that returns a pointer to a static sb_plugin_descriptor.
 *
 * Ownership rules, spelled once for the whole header:
 *   - Every sb_str handed across is BORROWED: valid only for the duration of the call that
 *     received it. The receiver copies what it wants to keep. Strings are UTF-8 and are not
 *     required to be NUL-terminated.
 *   - Results flow back through sinks (a context pointer plus callbacks) owned by the caller,
 *     so memory allocated on one side is never freed on the other.
 *   - `const char*` fields of the descriptor and of sb_setting_spec are NUL-terminated static
 *     strings that live as long as the plugin is loaded.
 *
 * Versioning (see share/doc/switchboard/abi-policy.md):
 *   - SB_ABI_MAJOR changes on any incompatible change; the host refuses a different major.
 *   - SB_ABI_MINOR grows when fields are appended to a struct; a plugin built against minor M
 *     loads on any host whose minor is >= M.
 *   - Every struct that crosses, except the two frozen pairs sb_str and sb_header (and
 *     sb_setting_value, a pair of sb_str), starts with `uint32_t struct_size`, set by its writer
 *     to sizeof() as the writer compiled it. A reader never touches a field that lies past the
 *     writer's struct_size: it treats such a field as zero/empty. Arrays of sized structs are
 *     stepped by the writer's struct_size (see SB_ARRAY_AT). The callee writes into a struct the
 *     caller allocated (sb_error) only up to the caller's struct_size.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this header. A plugin records the values it was compiled with in its descriptor. */
#ifndef SB_ABI_MAJOR
#define SB_ABI_MAJOR 2
#endif
#ifndef SB_ABI_MINOR
#define SB_ABI_MINOR 2
#endif

/** Name of the exported symbol (a Boost.DLL alias) holding `const sb_plugin_descriptor* (*)(void)`.
 * Frozen for every major from 2 on; the descriptor's leading version fields say the rest. */
#define SB_PLUGIN_EXPORT_NAME "switchboard_plugin"
/** The export name of ABI 1.x plugins. The host looks it up only to refuse such a plugin with a
 * message naming both versions. */
#define SB_PLUGIN_EXPORT_NAME_V1 "switchboard_plugin_v1"

/** True when a struct written with `struct_size` bytes contains member FIELD of TYPE. */
#define SB_HAS_FIELD(TYPE, PTR, FIELD) \
    ((PTR)->struct_size >= offsetof(TYPE, FIELD) + sizeof(((TYPE*)0)->FIELD))
/** Element I of an array of sized structs whose writer's element size is ELEM_SIZE bytes. */
#define SB_ARRAY_AT(TYPE, BASE, ELEM_SIZE, I) ((const TYPE*)((const char*)(BASE) + (size_t)(I) * (ELEM_SIZE)))

/** A borrowed byte string: `size` bytes at `data` (data may be NULL when size is 0). Frozen. */
typedef struct sb_str {
    const char* data;
    size_t size;
} sb_str;

/** Outcome of a plugin or host call. */
typedef enum sb_status {
    SB_OK = 0,
    /** Failed, but the same call may succeed later (timeout, 429, 5xx): the host retries with backoff. */
    SB_ERR_RETRYABLE = 1,
    /** Failed for good (bad request, policy refusal): the host does not retry; the job becomes a dead letter. */
    SB_ERR_FINAL = 2,
    /** The input or configuration is invalid (bad settings at create, malformed command). Final. */
    SB_ERR_INVALID = 3,
    /** The plugin does not implement this entry point. */
    SB_ERR_UNSUPPORTED = 4,
    /** Not a failure: the call cannot run yet (a quota resets at midnight, a 429 with Retry-After).
     * The host runs it again after sb_error.retry_after_ms (milliseconds from now, at most 24 h;
     * 0 = the host's backoff) without counting an attempt. */
    SB_ERR_RETRY_AFTER = 5
} sb_status;

/** Error details written by the callee when it returns anything but SB_OK. The caller allocates it
 * and sets struct_size; the callee writes only fields inside that size. Strings are NUL-terminated;
 * longer text is truncated. `code` is the provider's error code when there is one (e.g. Graph
 * "100"), else "". */
typedef struct sb_error {
    uint32_t struct_size;
    char code[64];
    char message[960];
    /** With SB_ERR_RETRY_AFTER: run the call again after this many milliseconds (0 = host backoff). */
    int64_t retry_after_ms;
} sb_error;

/** Capability bits of sb_plugin_descriptor.capabilities. */
enum {
    SB_CAP_CHANNEL = 1u << 0, /**< receives webhooks and sends messages on a chat channel */
    SB_CAP_PAYMENT = 1u << 1, /**< payment gateway */
    SB_CAP_AI = 1u << 2,      /**< produces replies (AI provider or template responder) */
    SB_CAP_CRM = 1u << 3,     /**< CRM sync */
    SB_CAP_NOTIFY = 1u << 4,  /**< notification sink */
    SB_CAP_STAGE = 1u << 5    /**< provides pipeline stages (see sb_plugin_descriptor.stages) */
};

/** Type of a declared setting. Values reach the plugin as text already validated against the type. */
typedef enum sb_setting_type {
    SB_SETTING_STRING = 0,
    SB_SETTING_INT = 1,      /**< decimal 64-bit signed integer */
    SB_SETTING_BOOL = 2,     /**< "true" or "false" */
    SB_SETTING_DURATION = 3, /**< milliseconds as a decimal integer; config may write "30s", "500ms", "5m", "2h" */
    SB_SETTING_FLOAT = 4,    /**< decimal number such as "0.75" (JSON number syntax) */
    SB_SETTING_ENUM = 5,     /**< one of sb_setting_spec.choices */
    SB_SETTING_LIST = 6,     /**< a YAML sequence of scalars; reaches the plugin as a JSON array of strings */
    SB_SETTING_MAP = 7,      /**< a YAML mapping of scalars; reaches the plugin as a JSON object of strings */
    SB_SETTING_RATE = 8      /**< (ABI 2.1) a send rate "COUNT/DURATION" such as "80/1s", "20/1m", "1/6s", or "off";
                                  reaches the plugin as written */
} sb_setting_type;

/** Flags of sb_setting_spec.flags. */
enum {
    SB_SETTING_REQUIRED = 1u << 0, /**< the host refuses to start when the tenant does not set it */
    SB_SETTING_SECRET = 1u << 1    /**< never shown by the host (errors, check-config); the host replaces the
                                        value (when 6 characters or longer) with "***" in the plugin's log lines */
};

/** One declared setting of a plugin (Fluent Bit's config_map, as data). Sized: the descriptor's
 * settings array is stepped by settings[0].struct_size. */
typedef struct sb_setting_spec {
    uint32_t struct_size;
    const char* name;          /**< key under tenants.<t>.plugins.<instance> */
    uint32_t type;             /**< sb_setting_type */
    uint32_t flags;            /**< SB_SETTING_* bits */
    const char* default_value; /**< text form of the default (JSON text for lists and maps), or NULL for none */
    const char* description;   /**< one line for admins; shown by `switchboard plugins inspect` */
    const char* const* choices; /**< SB_SETTING_ENUM: the allowed values */
    size_t choices_count;
} sb_setting_spec;

/** One HTTP header (borrowed). Names are as received; compare them case-insensitively. Frozen. */
typedef struct sb_header {
    sb_str name;
    sb_str value;
} sb_header;

/** An inbound webhook request, as received by the host's ingress (borrowed). */
typedef struct sb_http_request {
    uint32_t struct_size;
    sb_str method;    /**< "GET", "POST" or "OPTIONS" (CORS preflight; answer it with headers) */
    sb_str path;      /**< decoded path, e.g. "/webhooks/messenger/demo" */
    sb_str query;     /**< raw query string without the leading '?', percent-encoded as received */
    const sb_header* headers;
    size_t header_count;
    sb_str body;      /**< the raw body bytes exactly as received (signatures are computed over these) */
    /** The URL the provider called: `server.public_url` plus the original request target (path and
     * query exactly as received), e.g. "https://bot.example.com/webhooks/twilio/demo?x=1". Twilio
     * signs this. Empty when the admin did not set server.public_url. */
    sb_str public_url;
    sb_str peer_address;  /**< the TCP peer, "203.0.113.7" or "2001:db8::1" (no port) */
    sb_str content_type;  /**< the Content-Type header's value, "" when absent */
    sb_str instance;      /**< the plugin instance name the URL addressed ("staff-bot"); "" for routing by account id */
} sb_http_request;

/** Sink for a webhook's outcome. The plugin calls respond() once (if it does not, the host answers
 * 200 with an empty body), header() for each response header it wants sent, and emit() once per
 * normalized event (a JSON object with a "type"). emit returns SB_ERR_INVALID when the event is not
 * such an object (the host then answers 500 and stores nothing). */
typedef struct sb_webhook_sink {
    uint32_t struct_size;
    void* ctx;
    void (*respond)(void* ctx, int32_t status, sb_str content_type, sb_str body);
    sb_status (*emit)(void* ctx, sb_str event_json);
    /** Adds a response header (e.g. Access-Control-Allow-Origin for OPTIONS). Ignored: hop-by-hop
     * headers (Connection, Content-Length, Transfer-Encoding), Content-Type (set it with respond())
     * and a name or value containing a line break. */
    void (*header)(void* ctx, sb_str name, sb_str value);
} sb_webhook_sink;

/** Sink for a list of strings or JSON documents: put() is called once per item and returns SB_OK,
 * or SB_ERR_INVALID when the item is refused (not a JSON object where one is expected). */
typedef struct sb_sink {
    uint32_t struct_size;
    void* ctx;
    sb_status (*put)(void* ctx, sb_str item);
} sb_sink;

/** Flags of sb_http_client_request.flags. */
enum {
    /** Refuse to connect to loopback, private (RFC 1918, fc00::/7), link-local and unspecified
     * addresses, after DNS resolution: for URLs a tenant's customer supplies (outbound webhooks). */
    SB_HTTP_REFUSE_PRIVATE_ADDRESSES = 1u << 0
};

/** An outbound HTTP request made through the host's client (TLS verified; connections are reused). */
typedef struct sb_http_client_request {
    uint32_t struct_size;
    sb_str method;
    sb_str url;
    const sb_header* headers;
    size_t header_count;
    sb_str body;
    uint32_t timeout_ms;          /**< whole-request timeout in milliseconds; 0 = the host default */
    uint32_t connect_timeout_ms;  /**< TCP+TLS connect timeout in milliseconds; 0 = the host default (5000) */
    uint64_t max_response_bytes;  /**< larger bodies fail the call (SB_ERR_FINAL); 0 = the host default (16 MiB) */
    uint32_t flags;               /**< SB_HTTP_* bits */
} sb_http_client_request;

/** The response of an outbound HTTP request (borrowed for the call). */
typedef struct sb_http_client_response {
    uint32_t struct_size;
    int32_t status;            /**< HTTP status code */
    const sb_header* headers;
    size_t header_count;
    sb_str body;
} sb_http_client_response;

/** Receives the response of an outbound HTTP request. */
typedef struct sb_http_client_response_sink {
    uint32_t struct_size;
    void* ctx;
    void (*on_response)(void* ctx, const sb_http_client_response* response);
} sb_http_client_response_sink;

/** Log levels of sb_host_api.log. */
typedef enum sb_log_level { SB_LOG_DEBUG = 0, SB_LOG_INFO = 1, SB_LOG_WARN = 2, SB_LOG_ERROR = 3 } sb_log_level;

/** Namespaces of the key/value state (sb_host_api.kv_*). */
typedef enum sb_kv_scope {
    SB_KV_INSTANCE = 0, /**< this plugin instance's own keys in this tenant */
    SB_KV_TENANT = 1    /**< keys every plugin instance of the tenant shares (e.g. staff chat links) */
} sb_kv_scope;

/**
 * Services the host offers one plugin instance. Handed to create() and valid until destroy().
 * Every function may be called from any host worker thread; the host serializes nothing, so
 * plugin state shared between calls must be guarded by the plugin. Functions that can fail
 * return SB_OK or an error with details in `error` (SB_ERR_RETRYABLE on a storage failure).
 */
typedef struct sb_host_api {
    uint32_t struct_size; /**< sizeof(sb_host_api) as the host compiled it */
    void* ctx;            /**< pass back as the first argument of every call */
    /** Writes one log line. The host adds tenant and instance and redacts secret values. */
    void (*log)(void* ctx, int32_t level, sb_str message);
    /** Current UTC time in milliseconds since the Unix epoch (the host's clock, injectable in tests). */
    int64_t (*now_ms)(void* ctx);
    /** Performs an HTTP request. Returns SB_OK when a response arrived (whatever its status; the sink
     * got it), SB_ERR_RETRYABLE on timeout or connection failure, SB_ERR_INVALID on a malformed URL,
     * SB_ERR_FINAL when the response exceeds max_response_bytes or the address is refused. */
    sb_status (*http_request)(void* ctx, const sb_http_client_request* request,
                              const sb_http_client_response_sink* sink, sb_error* error);
    /** Durable key/value state in `scope` (sb_kv_scope). Calls sink->put once with the value when the
     * key exists and has not expired; returns SB_OK either way. */
    sb_status (*kv_get)(void* ctx, uint32_t scope, sb_str key, const sb_sink* sink, sb_error* error);
    /** Stores a value; ttl_ms <= 0 keeps it forever. */
    sb_status (*kv_put)(void* ctx, uint32_t scope, sb_str key, sb_str value, int64_t ttl_ms, sb_error* error);
    /** Removes a key (no error when absent). */
    sb_status (*kv_delete)(void* ctx, uint32_t scope, sb_str key, sb_error* error);
    /** Atomically adds `delta` to the integer stored at `key` (absent, expired or non-integer values
     * count as 0) and writes the new value to *result. ttl_ms > 0 sets the expiry when the key is
     * created (a quota window); ttl_ms <= 0 keeps an existing expiry. */
    sb_status (*kv_increment)(void* ctx, uint32_t scope, sb_str key, int64_t delta, int64_t ttl_ms, int64_t* result,
                              sb_error* error);
    /** Adds `value` to the counter `switchboard_plugin_<name>_total{tenant,plugin}` in /metrics. */
    void (*metric_add)(void* ctx, sb_str name, double value);
    /** The recent messages of a conversation of this tenant, both directions, oldest first (newest
     * last): calls sink->put once with a JSON array of {"direction":"in"|"out","text","at_ms","status"}.
     * At most `max_messages` messages and, counting from the newest, `max_chars` characters of text
     * (0 = no limit). An unknown conversation gives []. */
    sb_status (*conversation_history)(void* ctx, int64_t conversation_id, uint32_t max_messages, uint32_t max_chars,
                                      const sb_sink* sink, sb_error* error);
    /** The contact of this tenant known on `channel` by `provider_id` (a PSID, chat id, phone):
     * calls sink->put once with {"id","name","phone","email","tags":[...],"score","attributes":{...}}
     * when known; nothing when not. */
    sb_status (*contact_get)(void* ctx, sb_str channel, sb_str provider_id, const sb_sink* sink, sb_error* error);
    /** Merges `patch_json` (an object with any of name, phone, email, tags, score, attributes; the
     * attributes object is merged key by key, a null removes a key) into that contact, creating it
     * when unknown. SB_ERR_INVALID when the patch is not such an object. */
    sb_status (*contact_update)(void* ctx, sb_str channel, sb_str provider_id, sb_str patch_json, sb_error* error);
    /** Registers a secret obtained at run time (an access token): the host replaces it with "***"
     * in this instance's log lines and errors from now on. Values under 6 bytes are ignored. */
    void (*register_secret)(void* ctx, sb_str secret);
    /** (ABI 2.1) Sets the gauge `switchboard_plugin_<name>{tenant,plugin}` in /metrics to `value`
     * (a state such as a quota's use, not a count). */
    void (*metric_set)(void* ctx, sb_str name, double value);
    /** (ABI 2.2) kv_increment at most once per `once_key`, for work that may run again after a crash
     * or a retry (a stage re-run adds a lead score or a token count once). In one transaction: when
     * `once_key` (same scope) is absent or expired, adds `delta` to `key` as kv_increment does (ttl_ms
     * likewise), records `once_key` with the new value for `once_ttl_ms` ms (> 0; the window in which
     * a re-run is recognised), and sets *applied = 1; otherwise changes nothing and sets *applied = 0.
     * Either way *result is the value `key` had right after that once_key's increment, so a re-run
     * sees what the first run saw. */
    sb_status (*kv_increment_once)(void* ctx, uint32_t scope, sb_str key, int64_t delta, int64_t ttl_ms, sb_str once_key,
                                   int64_t once_ttl_ms, int64_t* result, uint32_t* applied, sb_error* error);
} sb_host_api;

/** A tenant's setting for one plugin instance (borrowed for create()). Frozen pair. */
typedef struct sb_setting_value {
    sb_str name;
    sb_str value; /**< text form, validated against the declared type; defaults already applied */
} sb_setting_value;

/** What create() is told about the instance it makes. */
typedef struct sb_instance_config {
    uint32_t struct_size;
    sb_str tenant;   /**< tenant id from the config, e.g. "demo" */
    sb_str instance; /**< instance name: the plugin name, or the key of a `use:` entry ("staff-bot") */
    const sb_setting_value* settings;
    size_t settings_count;
    /** The instance's webhook URL under server.public_url ("https://.../webhooks/staff-bot/demo"),
     * "" when server.public_url is not set. */
    sb_str webhook_url;
} sb_instance_config;

/**
 * The call context of run_stage() and execute() (borrowed for the call).
 */
typedef struct sb_call_context {
    uint32_t struct_size;
    sb_str tenant;        /**< tenant id */
    sb_str instance;      /**< the instance name the route or command addressed */
    /** Absolute deadline, UTC ms since the Unix epoch on the host clock (now_ms()); the host stops
     * waiting for the outcome then. Pass the remaining time on as HTTP timeouts. */
    int64_t deadline_ms;
    uint32_t attempt;     /**< 1 for the first attempt; deferrals (SB_ERR_RETRY_AFTER) do not count */
    /** Stable across retries, restarts and databases: derived from the tenant and the originating
     * provider ids (message id, update id...), never a row id. Hand it to providers that
     * deduplicate (Idempotency-Key headers). At most 64 bytes, [A-Za-z0-9_-]. */
    sb_str idempotency_key;
    /** run_stage: the stage's `with:` parameters from the route, a JSON object ("{}" when none).
     * execute: "{}". */
    sb_str params_json;
    /** run_stage: what earlier stages of this route run produced, a JSON array of
     * {"stage":"plugin.stage","outcome":"ok"|"failed"|"late"|"empty","error":"...","outputs":[...]} in
     * order ("empty": a first_of tier answered SB_OK without output); a `first_of` tier sees why
     * earlier tiers fell through. execute: "[]". */
    sb_str earlier_outputs_json;
} sb_call_context;

/** (ABI 2.1) What a rate limit counts (sb_rate_limit.unit). */
typedef enum sb_rate_unit {
    SB_RATE_MESSAGES = 0,     /**< one token per message.send */
    SB_RATE_SMS_SEGMENTS = 1  /**< the SMS segments of the command's text: 160 GSM-7 characters alone, 153 per
                                   part when split; 70 / 67 for any other text (UCS-2) */
} sb_rate_unit;

/** (ABI 2.1) Whose sends a rate limit meters (sb_rate_limit.scope). */
typedef enum sb_rate_scope {
    SB_RATE_ACCOUNT = 0,   /**< every send of one instance (one provider account: a page, a number, a bot) */
    SB_RATE_RECIPIENT = 1  /**< the sends of one instance to one recipient.provider_id */
} sb_rate_scope;

/**
 * (ABI 2.1) A provider's send rate limit, enforced by the host on message.send commands before
 * execute() is called: a token bucket of COUNT tokens refilled at COUNT per DURATION, where
 * COUNT/DURATION is the instance's value of `setting` (an SB_SETTING_RATE the plugin declares,
 * whose default is the provider's documented limit; "off" disables it). A send that finds no
 * token is deferred until one is due, without spending an attempt, so the provider never sees
 * the burst and replies of one conversation keep their order. Buckets live in the host process.
 */
typedef struct sb_rate_limit {
    uint32_t struct_size;         /**< sizeof(sb_rate_limit) */
    const char* setting;          /**< the SB_SETTING_RATE setting holding COUNT/DURATION */
    uint32_t scope;               /**< sb_rate_scope */
    uint32_t unit;                /**< sb_rate_unit */
    const char* recipient_prefix; /**< only recipients whose provider_id starts with this (NULL or "" = all),
                                       e.g. "-" for Telegram group chats */
} sb_rate_limit;

/**
 * The plugin's single export. Fields are read only after the host checked struct_size and the
 * ABI version; function pointers may be NULL for entry points the plugin does not provide.
 * The first three fields keep their layout in every ABI major.
 */
typedef struct sb_plugin_descriptor {
    uint32_t struct_size; /**< sizeof(sb_plugin_descriptor) as the plugin compiled it */
    uint16_t abi_major;   /**< SB_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /**< SB_ABI_MINOR the plugin was built with */

    const char* name;        /**< unique plugin name, [a-z0-9_-]+, used in config and URLs */
    const char* version;     /**< the plugin's own semantic version */
    const char* license;     /**< SPDX identifier */
    const char* description; /**< one line */
    uint32_t capabilities;   /**< SB_CAP_* bits */

    /** Declared settings, stepped by settings[0].struct_size. */
    const sb_setting_spec* settings;
    size_t settings_count;

    /** Stage names this plugin provides, without the plugin prefix ("reply" → routes say "templates.reply"). */
    const char* const* stages;
    size_t stages_count;
    /** Command types execute() accepts ("message.send", "telegram.answer_callback"). A stage output
     * whose type a plugin of the tenant declares here becomes a command job; a command that reaches
     * an instance which does not declare it becomes a dead letter naming the plugin. */
    const char* const* commands;
    size_t commands_count;
    /** Event types the plugin emits (from webhooks, stages or command results), e.g. "message.received". */
    const char* const* events;
    size_t events_count;

    /** Creates one instance. Returns SB_OK and sets *instance, or an error with a message that names
     * the offending setting. */
    sb_status (*create)(const sb_host_api* host, const sb_instance_config* config, void** instance, sb_error* error);
    /** Destroys an instance created by create(). Never called while another call on it is running. */
    void (*destroy)(void* instance);

    /** Provider account ids this instance owns (e.g. the Facebook page id): sink->put once per id.
     * Used to route `POST /webhooks/{plugin}` that carry no tenant in the URL. */
    sb_status (*account_ids)(void* instance, const sb_sink* sink, sb_error* error);
    /** Static (no instance): the provider account ids an inbound request is addressed to, sink->put once
     * per id. Must not trust the payload for anything else: it is not verified yet. */
    sb_status (*route_keys)(const sb_http_request* request, const sb_sink* sink, sb_error* error);

    /** Verifies and normalizes one webhook request (GET, POST or OPTIONS). Respond with 401/403 and emit
     * nothing to refuse it; the host stores nothing for a refused request. Events emitted with a 2xx
     * answer are stored before the answer is sent, whatever the method. Runs on the host's HTTP I/O
     * threads while the provider waits: verify and parse only, and leave outbound calls to execute().
     * An event may carry "dedupe_key" (a provider id such as a Telegram update_id): the host files
     * an event with a key it already filed for this instance only once. */
    sb_status (*handle_webhook)(void* instance, const sb_http_request* request, const sb_webhook_sink* sink,
                                sb_error* error);

    /** Executes a command (a JSON object whose "type" is one of `commands`). On success calls
     * sink->put once with a JSON object result, e.g. {"provider_message_id":"m_..."}; a result that
     * carries a "type" (an event type such as "payment.invoice.created") is also filed and routed as
     * an event, and so is every further put. The host calls execute again only after a retryable
     * error or deferral, or after a crash left the outcome unknown and no echo proved it. */
    sb_status (*execute)(void* instance, const sb_call_context* context, sb_str command_json, const sb_sink* sink,
                         sb_error* error);

    /** Runs a pipeline stage on an event (JSON). Emits zero or more events and commands through
     * sink->put, each a JSON object with a "type". */
    sb_status (*run_stage)(void* instance, const sb_call_context* context, sb_str stage, sb_str event_json,
                           const sb_sink* sink, sb_error* error);

    /** (ABI 2.1) Send rate limits the host enforces, stepped by rate_limits[0].struct_size. */
    const sb_rate_limit* rate_limits;
    size_t rate_limits_count;
} sb_plugin_descriptor;

/** Signature of the exported entry point. */
typedef const sb_plugin_descriptor* (*sb_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
