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
 *     loads on any host whose minor is >= M. Structs carry their own size (struct_size) so the
 *     reader never touches a field the writer did not have.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this header. A plugin records the values it was compiled with in its descriptor. */
#ifndef SB_ABI_MAJOR
#define SB_ABI_MAJOR 1
#endif
#ifndef SB_ABI_MINOR
#define SB_ABI_MINOR 0
#endif

/** Name of the exported symbol (a Boost.DLL alias) holding `const sb_plugin_descriptor* (*)(void)`. */
#define SB_PLUGIN_EXPORT_NAME "switchboard_plugin_v1"

/** A borrowed byte string: `size` bytes at `data` (data may be NULL when size is 0). */
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
    SB_ERR_UNSUPPORTED = 4
} sb_status;

/** Error details written by the callee when it returns anything but SB_OK. Both fields NUL-terminated;
 * longer text is truncated. `code` is the provider's error code when there is one (e.g. Graph "100"), else "". */
typedef struct sb_error {
    char code[64];
    char message[960];
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
    SB_SETTING_DURATION = 3  /**< milliseconds as a decimal integer; config may write "30s", "500ms", "5m", "2h" */
} sb_setting_type;

/** Flags of sb_setting_spec.flags. */
enum {
    SB_SETTING_REQUIRED = 1u << 0, /**< the host refuses to start when the tenant does not set it */
    SB_SETTING_SECRET = 1u << 1    /**< never shown by the host (errors, check-config); the host replaces the
                                        value (when 6 characters or longer) with "***" in the plugin's log lines */
};

/** One declared setting of a plugin (Fluent Bit's config_map, as data). */
typedef struct sb_setting_spec {
    const char* name;          /**< key under tenants.<t>.plugins.<plugin> */
    uint32_t type;             /**< sb_setting_type */
    uint32_t flags;            /**< SB_SETTING_* bits */
    const char* default_value; /**< text form of the default, or NULL for none */
    const char* description;   /**< one line for admins; shown by `switchboard plugins inspect` */
} sb_setting_spec;

/** One HTTP header (borrowed). Names are as received; compare them case-insensitively. */
typedef struct sb_header {
    sb_str name;
    sb_str value;
} sb_header;

/** An inbound webhook request, as received by the host's ingress (borrowed). */
typedef struct sb_http_request {
    sb_str method;    /**< "GET" or "POST" */
    sb_str path;      /**< decoded path, e.g. "/webhooks/messenger/demo" */
    sb_str query;     /**< raw query string without the leading '?', percent-encoded as received */
    const sb_header* headers;
    size_t header_count;
    sb_str body;      /**< the raw body bytes exactly as received (signatures are computed over these) */
} sb_http_request;

/** Sink for a webhook's outcome. The plugin calls respond() once (if it does not, the host answers
 * 200 with an empty body) and emit() once per normalized event (a JSON object with a "type"). */
typedef struct sb_webhook_sink {
    void* ctx;
    void (*respond)(void* ctx, int32_t status, sb_str content_type, sb_str body);
    void (*emit)(void* ctx, sb_str event_json);
} sb_webhook_sink;

/** Sink for a list of strings or a single JSON document: put() is called once per item. */
typedef struct sb_sink {
    void* ctx;
    void (*put)(void* ctx, sb_str item);
} sb_sink;

/** An outbound HTTP request made through the host's client (TLS verified). */
typedef struct sb_http_client_request {
    sb_str method;
    sb_str url;
    const sb_header* headers;
    size_t header_count;
    sb_str body;
    uint32_t timeout_ms; /**< whole-request timeout in milliseconds; 0 = the host default */
} sb_http_client_request;

/** Receives the response of an outbound HTTP request (borrowed for the call). */
typedef struct sb_http_client_response_sink {
    void* ctx;
    void (*on_response)(void* ctx, int32_t status, const sb_header* headers, size_t header_count, sb_str body);
} sb_http_client_response_sink;

/** Log levels of sb_host_api.log. */
typedef enum sb_log_level { SB_LOG_DEBUG = 0, SB_LOG_INFO = 1, SB_LOG_WARN = 2, SB_LOG_ERROR = 3 } sb_log_level;

/**
 * Services the host offers one plugin instance. Handed to create() and valid until destroy().
 * Every function may be called from any host worker thread; the host serializes nothing, so
 * plugin state shared between calls must be guarded by the plugin.
 */
typedef struct sb_host_api {
    uint32_t struct_size; /**< sizeof(sb_host_api) as the host compiled it */
    void* ctx;            /**< pass back as the first argument of every call */
    /** Writes one log line. The host adds tenant and plugin and redacts secret setting values. */
    void (*log)(void* ctx, int32_t level, sb_str message);
    /** Current UTC time in milliseconds since the Unix epoch (the host's clock, injectable in tests). */
    int64_t (*now_ms)(void* ctx);
    /** Performs an HTTP request. Returns SB_OK when a response arrived (whatever its status; the sink
     * got it), SB_ERR_RETRYABLE on timeout or connection failure, SB_ERR_INVALID on a malformed URL. */
    sb_status (*http_request)(void* ctx, const sb_http_client_request* request,
                              const sb_http_client_response_sink* sink, sb_error* error);
    /** Per-tenant, per-plugin durable key/value state. kv_get calls sink->put once with the value
     * when the key exists and has not expired, and returns SB_OK either way. */
    sb_status (*kv_get)(void* ctx, sb_str key, const sb_sink* sink, sb_error* error);
    /** Stores a value; ttl_ms <= 0 keeps it forever. */
    sb_status (*kv_put)(void* ctx, sb_str key, sb_str value, int64_t ttl_ms, sb_error* error);
    /** Adds `value` to the counter `switchboard_plugin_<name>_total{tenant,plugin}` in /metrics. */
    void (*metric_add)(void* ctx, sb_str name, double value);
} sb_host_api;

/** A tenant's settings for one plugin instance (borrowed for create()). */
typedef struct sb_setting_value {
    sb_str name;
    sb_str value; /**< text form, validated against the declared type; defaults already applied */
} sb_setting_value;

typedef struct sb_instance_config {
    sb_str tenant;  /**< tenant id from the config, e.g. "demo" */
    const sb_setting_value* settings;
    size_t settings_count;
} sb_instance_config;

/**
 * The plugin's single export. Fields are read only after the host checked struct_size and the
 * ABI version; function pointers may be NULL for entry points the plugin does not provide.
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

    const sb_setting_spec* settings;
    size_t settings_count;

    /** Stage names this plugin provides, without the plugin prefix ("reply" → routes say "templates.reply"). */
    const char* const* stages;
    size_t stages_count;

    /** Creates the instance of one tenant. Returns SB_OK and sets *instance, or an error with a message
     * that names the offending setting. */
    sb_status (*create)(const sb_host_api* host, const sb_instance_config* config, void** instance, sb_error* error);
    /** Destroys an instance created by create(). Never called while another call on it is running. */
    void (*destroy)(void* instance);

    /** Provider account ids this instance owns (e.g. the Facebook page id): sink->put once per id.
     * Used to route `POST /webhooks/{plugin}` that carry no tenant in the URL. */
    sb_status (*account_ids)(void* instance, const sb_sink* sink, sb_error* error);
    /** Static (no instance): the provider account ids an inbound request is addressed to, sink->put once
     * per id. Must not trust the payload for anything else: it is not verified yet. */
    sb_status (*route_keys)(const sb_http_request* request, const sb_sink* sink, sb_error* error);

    /** Verifies and normalizes one webhook request. Respond with 401/403 and emit nothing to refuse it;
     * the host stores nothing for a refused request. Runs on the host's HTTP I/O threads while the
     * provider waits for its answer: verify and parse only, and leave outbound calls to execute(). */
    sb_status (*handle_webhook)(void* instance, const sb_http_request* request, const sb_webhook_sink* sink,
                                sb_error* error);

    /** Executes a command (a JSON object such as message.send). On success calls sink->put once with a
     * JSON object result, e.g. {"provider_message_id":"m_..."}. The command carries "idempotency_key"
     * (the job id): pass it to providers that deduplicate on one. The host calls execute again only
     * after a retryable error, or after a crash left the outcome unknown and no echo proved it. */
    sb_status (*execute)(void* instance, sb_str command_json, const sb_sink* sink, sb_error* error);

    /** Runs a pipeline stage on an event (JSON). Emits zero or more events and commands through
     * sink->put, each a JSON object with a "type". */
    sb_status (*run_stage)(void* instance, sb_str stage, sb_str event_json, const sb_sink* sink, sb_error* error);
} sb_plugin_descriptor;

/** Signature of the exported entry point. */
typedef const sb_plugin_descriptor* (*sb_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
