#include <switchboard/meta/channel.hpp>

#include <switchboard/sdk/events.hpp>

#include <climits>
#include <cmath>

namespace switchboard::meta {
namespace json = boost::json;
using sdk::error_kind;
using sdk::plugin_error;

namespace {

/// Where an admin sets `setting_name`: the environment variable the shipped etc/switchboard.yaml
/// reads it from (the names existing Meta integrations use), shared by Messenger and Instagram.
std::string where_to_set(const channel_profile& profile, std::string_view setting_name) {
    std::string var = setting_name == setting::app_secret          ? "FACEBOOK_APP_SECRET"
                      : setting_name == setting::verify_token      ? "MESSENGER_VERIFY_TOKEN"
                      : setting_name == setting::page_access_token ? "FACEBOOK_PAGE_ACCESS_TOKEN"
                                                                   : "";
    return var.empty() ? "set " + std::string(setting_name) + " under the tenant's " + std::string(profile.channel) + " plugin"
                       : var;
}

int64_t positive_duration(const sdk::settings& settings, const char* name, int64_t fallback) {
    int64_t v = settings.integer(name, fallback);
    if (v <= 0)
        throw plugin_error(error_kind::invalid,
                           std::string("setting '") + name + "' must be a positive duration (e.g. \"24h\", \"10s\")");
    return v;
}

std::optional<int64_t> int_field(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (auto* i = v->if_int64()) return *i;
    if (auto* u = v->if_uint64()) return *u <= static_cast<uint64_t>(INT64_MAX) ? std::optional<int64_t>(*u) : std::nullopt;
    if (auto* d = v->if_double())
        return std::isfinite(*d) && std::fabs(*d) < 9.0e18 ? std::optional<int64_t>(static_cast<int64_t>(*d)) : std::nullopt;
    return std::nullopt;
}

webhook_outcome handshake(const sdk::request& request, const channel_config& config, const channel_profile& profile) {
    webhook_outcome out;
    if (config.verify_token.empty()) {
        out.status = 403;
        out.body = "verify_token is not configured for this tenant's " + std::string(profile.channel) +
                   " channel; set it to the Verify Token entered in the Meta App Dashboard";
        out.logs.push_back({SB_LOG_ERROR, "subscription handshake refused with 403: verify_token is not set (" +
                                              where_to_set(profile, setting::verify_token) + ")"});
        return out;
    }
    auto mode = request.query_param("hub.mode");
    auto token = request.query_param("hub.verify_token");
    if (mode != "subscribe" || !token || !secrets_equal(*token, config.verify_token)) {
        out.status = 403;
        out.body = "verification failed";
        out.logs.push_back({SB_LOG_WARN, mode != "subscribe"
                                             ? "subscription handshake refused with 403: hub.mode is not 'subscribe'"
                                             : "subscription handshake refused with 403: hub.verify_token does not "
                                               "match the verify_token setting"});
        return out;
    }
    auto challenge = request.query_param("hub.challenge");
    if (!challenge) {
        out.status = 400;
        out.body = "hub.challenge is missing";
        out.logs.push_back({SB_LOG_WARN, "subscription handshake without hub.challenge answered 400"});
        return out;
    }
    out.status = 200;
    out.body = *challenge;
    out.logs.push_back({SB_LOG_INFO, "subscription handshake answered: Meta webhook verified"});
    return out;
}

webhook_outcome notification(const sdk::request& request, const channel_config& config,
                             const channel_profile& profile) {
    webhook_outcome out;
    if (config.app_secret.empty()) {
        out.status = 503;
        out.body = "this tenant's " + std::string(profile.channel) +
                   " channel has no app_secret configured, so webhooks cannot be verified and are refused";
        out.logs.push_back({SB_LOG_ERROR, "webhook refused with 503: app_secret is not set (" +
                                              where_to_set(profile, setting::app_secret) +
                                              "); set it to the App Secret of the Meta app"});
        return out;
    }
    auto status = verify_signature(request.header(signature_header), config.app_secret, request.body());
    if (status != signature_status::valid) {
        out.status = 401;
        out.body = "invalid X-Hub-Signature-256";
        std::string why = "webhook refused with 401: X-Hub-Signature-256 is " + std::string(to_string(status));
        if (status == signature_status::mismatch)
            why += " (signed with another App Secret, or the body was altered on the way; check app_secret)";
        out.logs.push_back({SB_LOG_WARN, why});
        return out;
    }

    parse_options opts;
    opts.channel = profile.channel;
    opts.object = profile.object;
    opts.own_account_id = config.account_id;
    opts.tenant_in_path = path_names_tenant(request.path(), profile.channel);
    out.events = parse_webhook(request.body(), opts);
    out.status = 200;
    out.body = "EVENT_RECEIVED";
    for (auto& ev : out.events)
        if (ev.at("type").as_string() == sdk::events::webhook_unhandled)
            out.logs.push_back({SB_LOG_WARN, "webhook.unhandled stored: " + std::string(ev.at("reason").as_string())});
    out.logs.push_back({SB_LOG_DEBUG, "webhook accepted with " + std::to_string(out.events.size()) + " event(s)"});
    return out;
}

}  // namespace

channel_config read_config(const sdk::settings& settings, const channel_profile& profile) {
    channel_config c;
    c.app_secret = settings.string(setting::app_secret);
    c.verify_token = settings.string(setting::verify_token);
    c.page_access_token = settings.string(setting::page_access_token);
    c.account_id = settings.string(std::string(profile.account_setting));
    c.graph_api_base = settings.string(setting::graph_api_base);
    if (c.graph_api_base.empty()) c.graph_api_base = default_graph_api_base;
    c.messaging_window_ms = positive_duration(settings, setting::messaging_window, standard_messaging_window_ms);
    c.send_timeout_ms = positive_duration(settings, setting::send_timeout, default_send_timeout_ms);
    return c;
}

std::vector<std::string> missing_setting_warnings(const channel_config& config, const channel_profile& profile) {
    std::vector<std::string> out;
    auto warn = [&](const std::string& value, const char* name, std::string_view consequence) {
        if (value.empty())
            out.push_back(std::string(name) + " is not set (" + where_to_set(profile, name) + "): " +
                          std::string(consequence));
    };
    warn(config.app_secret, setting::app_secret, "webhooks for this tenant will be refused");
    warn(config.verify_token, setting::verify_token,
         "the Meta subscription handshake (GET) for this tenant will be refused");
    warn(config.page_access_token, setting::page_access_token, "messages cannot be sent for this tenant");
    return out;
}

webhook_outcome handle_webhook_request(const sdk::request& request, const channel_config& config,
                                       const channel_profile& profile) {
    if (request.method() == "GET") return handshake(request, config, profile);
    if (request.method() == "POST") return notification(request, config, profile);
    webhook_outcome out;
    out.status = 405;
    out.body = "method not allowed";
    out.logs.push_back({SB_LOG_WARN, "webhook with method " + std::string(request.method()) + " answered 405"});
    return out;
}

namespace detail {

sdk::http_call prepare_send(const json::object& command, const channel_config& config,
                            const channel_profile& profile, int64_t now_ms) {
    auto* type = command.if_contains("type");
    std::string_view t = type && type->is_string() ? std::string_view(type->get_string()) : std::string_view();
    if (t != sdk::events::message_send)
        throw plugin_error(error_kind::invalid, "the " + std::string(profile.channel) +
                                                    " channel executes only message.send, not '" + std::string(t) +
                                                    "'");
    if (config.page_access_token.empty())
        throw plugin_error(error_kind::final, "page_access_token is not set (" +
                                                  where_to_set(profile, setting::page_access_token) +
                                                  "): cannot send on the " + std::string(profile.channel) +
                                                  " channel; set it to a page access token with messaging permission");
    auto* recipient = command.if_contains("recipient");
    bool private_reply = recipient && recipient->is_object() && recipient->as_object().contains("comment_id");
    if (private_reply) {
        // Messenger Platform "Private Replies": one message per comment, within 7 days of it.
        auto created = int_field(command, "comment_created_ms");
        if (created && now_ms - *created > private_reply_window_ms)
            throw plugin_error(error_kind::final, "a private reply is allowed only within 7 days of the comment",
                               "private_reply_window");
    } else {
        check_messaging_window(int_field(command, "last_inbound_ms"), now_ms, config.messaging_window_ms);
    }
    send_options opts;
    opts.graph_api_base = config.graph_api_base;
    opts.page_access_token = config.page_access_token;
    opts.timeout_ms = static_cast<unsigned>(std::min<int64_t>(config.send_timeout_ms, 0xFFFFFFFFLL));
    opts.include_metadata = profile.send_metadata;
    opts.button_template = profile.pages_features;
    return build_send_request(command, opts);
}

std::optional<recovery_lookup> plan_recovery(const json::object& command, const channel_config& config,
                                             const channel_profile& profile) {
    auto recovery = read_recovery(command);  // throws on a malformed member: logged, then sent
    if (!recovery) return std::nullopt;
    auto* type = command.if_contains("type");
    if (!type || !type->is_string() || type->get_string() != sdk::events::message_send) return std::nullopt;
    if (config.page_access_token.empty()) return std::nullopt;  // prepare_send refuses it
    auto* recipient_v = command.if_contains("recipient");
    auto* recipient = recipient_v ? recipient_v->if_object() : nullptr;
    auto* psid_v = recipient ? recipient->if_contains("provider_id") : nullptr;
    auto* text_v = command.if_contains("text");
    if (!psid_v || !psid_v->is_string() || psid_v->get_string().empty() || !text_v || !text_v->is_string() ||
        text_v->get_string().empty())
        return std::nullopt;  // prepare_send refuses it
    recovery_lookup plan;
    plan.options.graph_api_base = config.graph_api_base;
    plan.options.page_access_token = config.page_access_token;
    plan.options.platform = profile.channel;  // the Conversations API platform values are our channel names
    plan.options.account_id = config.account_id;
    plan.options.timeout_ms = static_cast<unsigned>(std::min<int64_t>(config.send_timeout_ms, 0xFFFFFFFFLL));
    plan.user_id = psid_v->get_string();
    plan.text = text_v->get_string();
    plan.since_ms = recovery->since_ms;
    return plan;
}

std::string recovery_warning(const channel_profile& profile, std::string_view reason, std::string_view token) {
    return "could not check with the " + std::string(profile.channel) +
           " Conversations API whether the interrupted attempt was delivered (" +
           redact(std::string(reason), token) + "); sending again";
}

}  // namespace detail

meta_channel::meta_channel(const sdk::host& host, const sdk::settings& settings, const channel_profile& profile)
    : host_(host), profile_(profile), config_(read_config(settings, profile)) {
    for (auto& w : missing_setting_warnings(config_, profile_)) host_.warn(w);
}

std::vector<std::string> meta_channel::account_ids() const {
    if (config_.account_id.empty()) return {};
    return {config_.account_id};
}

void meta_channel::handle_webhook(const sdk::request& request, sdk::webhook_result& result) {
    webhook_outcome out = handle_webhook_request(request, config_, profile_);
    for (auto& line : out.logs) host_.log(line.level, line.message);
    for (auto& ev : out.events) result.emit(ev);
    if (out.status == 200) {
        if (!out.events.empty()) host_.metric("webhook_events", static_cast<double>(out.events.size()));
    } else {
        host_.metric("webhooks_refused");
    }
    result.respond(out.status, out.body, out.content_type);
}

json::object meta_channel::execute(const sdk::call& call, const json::object& command) {
    auto http = [this](const sdk::http_call& c) { return host_.http(c); };
    if (sdk::has_type(command, comment_reply_command) && profile_.pages_features) {
        if (config_.page_access_token.empty())
            throw plugin_error(error_kind::final, "page_access_token is not set: cannot answer comments", "not_configured");
        send_options opts;
        opts.graph_api_base = config_.graph_api_base;
        opts.page_access_token = config_.page_access_token;
        opts.timeout_ms = static_cast<unsigned>(std::min<int64_t>(config_.send_timeout_ms, 0xFFFFFFFFLL));
        try {
            return read_comment_response(http(build_comment_reply(command, opts)));
        } catch (const plugin_error& e) {
            throw plugin_error(e.kind(), redact(e.what(), config_.page_access_token), e.code());
        }
    }
    if (auto* r = command.if_contains("recipient"); r && r->is_object())
        if (auto* comment = r->as_object().if_contains("comment_id"); comment && comment->is_string()) {
            // One private reply per comment, whichever route asks: the first call's key holds the claim.
            const std::string key = "meta.private-reply:" + std::string(comment->as_string());
            const std::string mine = call.idempotency_key().empty() ? "-" : call.idempotency_key();
            auto held = host_.kv_get(key);
            if (held && *held != mine)
                throw plugin_error(error_kind::final, "this comment already had its private reply", "private_reply_used");
            if (!held) host_.kv_put(key, mine, private_reply_window_ms);
        }
    return execute_send(command, config_, profile_, host_.now_ms(), http,
                        [this](sb_log_level level, const std::string& line) { host_.log(level, line); });
}

void meta_channel::run_stage(const sdk::call& call, std::string_view stage, const json::object& event,
                             sdk::emitter& out) {
    if (stage != "comment_reply" || !profile_.pages_features)
        throw plugin_error(error_kind::final, "unknown stage '" + std::string(profile_.channel) + "." + std::string(stage) + "'");
    if (!sdk::has_type(event, comment_received)) return;
    auto text_param = [&](std::string_view name) {
        auto* v = call.params().if_contains(name);
        std::string t = v && v->is_string() ? std::string(v->as_string()) : "";
        std::string who;
        if (auto* c = event.if_contains("contact"); c && c->is_object())
            if (auto* n = c->as_object().if_contains("name"); n && n->is_string()) who = std::string(n->as_string());
        for (size_t at; (at = t.find("{{name}}")) != std::string::npos;) t.replace(at, 8, who);
        return t;
    };
    const std::string private_text = text_param("private"), public_text = text_param("public");
    if (private_text.empty() && public_text.empty())
        throw plugin_error(error_kind::invalid,
                           "stage " + std::string(profile_.channel) + ".comment_reply needs with: {private: ..., public: ...}");
    const json::value comment = event.at("comment_id");
    if (!private_text.empty()) {
        json::object send{{"type", sdk::events::message_send},
                          {"channel", event.at("channel")},
                          {"recipient", {{"provider_id", event.at("contact").at("provider_id")}, {"comment_id", comment}}},
                          {"text", private_text}};
        if (auto* ts = event.if_contains("timestamp_ms")) send["comment_created_ms"] = *ts;
        out.emit(send);
    }
    if (!public_text.empty())
        out.emit({{"type", comment_reply_command}, {"channel", event.at("channel")}, {"comment_id", comment},
                  {"text", public_text}});
}

}  // namespace switchboard::meta
