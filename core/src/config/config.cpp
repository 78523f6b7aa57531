#include <switchboard/core/config/config.hpp>

#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/text.hpp>

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include <arpa/inet.h>

#include <algorithm>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

namespace switchboard::core {

std::string diagnostic::to_string() const {
    std::ostringstream out;
    out << file;
    if (mark.line > 0) out << ':' << mark.line << ':' << mark.column;
    out << ": " << message;
    return out.str();
}

namespace {
std::string join_messages(const std::vector<diagnostic>& ds) {
    std::string s;
    for (auto& d : ds) {
        if (!s.empty()) s += '\n';
        s += d.to_string();
    }
    return s;
}
}  // namespace

config_error::config_error(std::vector<diagnostic> diagnostics)
    : std::runtime_error(join_messages(diagnostics)), diagnostics_(std::move(diagnostics)) {}

const plugin_use* tenant_config::find_plugin(const std::string& name) const {
    for (auto& p : plugins)
        if (p.name == name) return &p;
    return nullptr;
}

const tenant_config* config::find_tenant(const std::string& id) const {
    for (auto& t : tenants)
        if (t.id == id) return &t;
    return nullptr;
}

std::optional<std::string> expand_env(const std::string& text, std::string& error) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        if (text[i] != '$') {
            out.push_back(text[i++]);
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '$') {
            out.push_back('$');
            i += 2;
            continue;
        }
        if (i + 1 >= text.size() || text[i + 1] != '{') {
            out.push_back(text[i++]);
            continue;
        }
        size_t close = text.find('}', i + 2);
        if (close == std::string::npos) {
            error = "unterminated '${' in value: write ${NAME} or ${NAME:-default}";
            return std::nullopt;
        }
        std::string inner = text.substr(i + 2, close - i - 2);
        std::optional<std::string> fallback;
        if (auto sep = inner.find(":-"); sep != std::string::npos) {
            fallback = inner.substr(sep + 2);
            inner = inner.substr(0, sep);
        }
        bool valid = !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        });
        if (!valid) {
            error = "'${" + inner + "}' is not a valid environment variable reference";
            return std::nullopt;
        }
        const char* v = std::getenv(inner.c_str());
        if (v && *v) {
            out += v;
        } else if (fallback) {
            out += *fallback;
        } else {
            error = "environment variable " + inner + " is not set (and the value gives no default: write ${" +
                    inner + ":-default})";
            return std::nullopt;
        }
        i = close + 1;
    }
    return out;
}

std::optional<int64_t> parse_duration_ms(const std::string& text) {
    return switchboard::sdk::parse_duration_ms(text); // one syntax for the host and the SDK's fake host
}

std::optional<std::string> did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    return switchboard::sdk::text::did_you_mean(word, candidates);
}

namespace {

source_mark mark_of(const YAML::Node& n) {
    auto m = n.Mark();
    if (m.is_null()) return {};
    return {m.line + 1, m.column + 1};
}

/// Walks one YAML document, collecting diagnostics instead of stopping at the first.
class loader {
public:
    explicit loader(std::string file) : file_(std::move(file)) {}

    void error(const YAML::Node& at, const std::string& message) { error(mark_of(at), message); }
    void error(source_mark m, const std::string& message) { diags_.push_back({file_, m, message}); }

    /// Checks that `map` has only `allowed` keys; reports each unknown key with a suggestion.
    bool check_keys(const YAML::Node& map, const std::string& where, const std::vector<std::string>& allowed) {
        if (!map.IsMap()) {
            error(map, "'" + where + "' must be a mapping");
            return false;
        }
        for (auto it = map.begin(); it != map.end(); ++it) {
            std::string key = it->first.Scalar();
            if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
            std::string msg = "unknown key '" + key + "' in " + where;
            if (auto s = did_you_mean(key, allowed)) msg += "; did you mean '" + *s + "'?";
            else {
                msg += " (allowed: ";
                for (size_t i = 0; i < allowed.size(); ++i) msg += (i ? ", " : "") + allowed[i];
                msg += ")";
            }
            error(it->first, msg);
        }
        return true;
    }

    /// The scalar's text with ${VAR} expanded; nullopt (and a diagnostic) on failure.
    std::optional<std::string> scalar(const YAML::Node& n, const std::string& key) {
        if (!n.IsScalar()) {
            error(n, "'" + key + "' must be a single value");
            return std::nullopt;
        }
        std::string err;
        auto v = expand_env(n.Scalar(), err);
        if (!v) error(n, "'" + key + "': " + err);
        return v;
    }

    template <class T>
    void integer(const YAML::Node& map, const char* key, T& out, long long min, long long max) {
        auto n = map[key];
        if (!n) return;
        auto v = scalar(n, key);
        if (!v) return;
        try {
            size_t pos = 0;
            long long x = std::stoll(*v, &pos);
            if (pos != v->size()) throw std::invalid_argument("trailing");
            if (x < min || x > max) {
                error(n, "'" + std::string(key) + "' must be between " + std::to_string(min) + " and " +
                             std::to_string(max) + ", got " + *v);
                return;
            }
            out = static_cast<T>(x);
        } catch (const std::exception&) {
            error(n, "'" + std::string(key) + "' must be a whole number, got '" + *v + "'");
        }
    }

    void duration(const YAML::Node& map, const char* key, int64_t& out) {
        auto n = map[key];
        if (!n) return;
        auto v = scalar(n, key);
        if (!v) return;
        if (auto ms = parse_duration_ms(*v)) out = *ms;
        else error(n, "'" + std::string(key) + "' must be a duration such as 500ms, 10s, 5m or 24h, got '" + *v + "'");
    }

    config run(const std::string& text) {
        config cfg;
        cfg.file = file_;
        YAML::Node root;
        try {
            root = YAML::Load(text);
        } catch (const YAML::Exception& e) {
            error(source_mark{e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg);
            throw config_error(diags_);
        }
        if (!root || root.IsNull()) {
            error(source_mark{}, "the file is empty: it needs at least 'tenants'");
            throw config_error(diags_);
        }
        if (!check_keys(root, "the top level", {"server", "storage", "plugins", "delivery", "tenants"}))
            throw config_error(diags_);

        if (auto s = root["server"]; s && check_keys(s, "server",
                                                   {"listen", "max_body_bytes", "header_timeout", "idle_timeout",
                                                    "threads", "shutdown_grace", "public_url"})) {
            if (auto u = s["public_url"])
                if (auto v = scalar(u, "public_url"); v && !v->empty()) {
                    bool ok = (v->rfind("https://", 0) == 0 || v->rfind("http://", 0) == 0) &&
                              v->find_first_of(" \t\r\n?#") == std::string::npos && v->size() > 8;
                    if (!ok)
                        error(u, "'public_url' must be the http(s) URL providers call, without query, e.g. "
                                 "https://bot.example.com, got '" + *v + "'");
                    else {
                        while (!v->empty() && v->back() == '/') v->pop_back();
                        cfg.server.public_url = *v;
                    }
                }
            if (auto l = s["listen"]) {
                if (auto v = scalar(l, "listen")) {
                    auto colon = v->rfind(':');
                    int port = -1;
                    if (colon != std::string::npos) {
                        try {
                            size_t pos = 0;
                            port = std::stoi(v->substr(colon + 1), &pos);
                            if (pos != v->size() - colon - 1) port = -1;
                        } catch (...) {
                        }
                    }
                    std::string host = colon == std::string::npos ? "" : v->substr(0, colon);
                    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
                    unsigned char addr[16];
                    bool ip = host == "localhost" || inet_pton(AF_INET, host.c_str(), addr) == 1 ||
                              inet_pton(AF_INET6, host.c_str(), addr) == 1;
                    if (colon == std::string::npos || port < 0 || port > 65535)
                        error(l, "'listen' must be HOST:PORT such as 127.0.0.1:8080, got '" + *v + "'");
                    else if (!ip)
                        error(l, "'listen' host must be an IP address (127.0.0.1, 0.0.0.0, ::1) or localhost, got '" +
                                     host + "'");
                    else {
                        cfg.server.host = v->substr(0, colon);
                        if (cfg.server.host.size() > 1 && cfg.server.host.front() == '[')
                            cfg.server.host = cfg.server.host.substr(1, cfg.server.host.size() - 2);
                        cfg.server.port = static_cast<uint16_t>(port);
                    }
                }
            }
            integer(s, "max_body_bytes", cfg.server.max_body_bytes, 1, 1LL << 32);
            duration(s, "header_timeout", cfg.server.header_timeout_ms);
            duration(s, "idle_timeout", cfg.server.idle_timeout_ms);
            duration(s, "shutdown_grace", cfg.server.shutdown_grace_ms);
            integer(s, "threads", cfg.server.threads, 1, 64);
        }
        if (auto s = root["storage"]; s && check_keys(s, "storage", {"url"})) {
            if (auto u = s["url"]) {
                cfg.storage.mark = mark_of(u);
                if (auto v = scalar(u, "url")) {
                    if (v->rfind("sqlite:", 0) != 0 && v->rfind("postgresql://", 0) != 0 &&
                        v->rfind("postgres://", 0) != 0)
                        error(u, "storage 'url' must start with sqlite: or postgresql://");
                    else cfg.storage.url = *v;
                }
            }
        }
        if (auto s = root["plugins"]; s && check_keys(s, "plugins", {"paths"})) {
            if (auto p = s["paths"]) {
                cfg.plugin_paths_mark = mark_of(p);
                if (!p.IsSequence()) error(p, "'paths' must be a list of directories");
                else
                    for (auto item : p)
                        if (auto v = scalar(item, "paths")) cfg.plugin_paths.push_back(*v);
            }
        }
        if (auto s = root["delivery"]; s && check_keys(s, "delivery",
                                                     {"workers", "reply_workers", "command_workers", "max_attempts",
                                                      "backoff_initial", "backoff_max",
                                                      "http_timeout", "lease", "echo_grace", "breaker_failures",
                                                      "breaker_cooldown"})) {
            integer(s, "workers", cfg.delivery.workers, 1, 256);
            integer(s, "reply_workers", cfg.delivery.reply_workers, 1, 256);
            integer(s, "command_workers", cfg.delivery.command_workers, 1, 256);
            integer(s, "max_attempts", cfg.delivery.max_attempts, 1, 1000);
            duration(s, "backoff_initial", cfg.delivery.backoff_initial_ms);
            duration(s, "backoff_max", cfg.delivery.backoff_max_ms);
            duration(s, "http_timeout", cfg.delivery.http_timeout_ms);
            duration(s, "lease", cfg.delivery.lease_ms);
            duration(s, "echo_grace", cfg.delivery.echo_grace_ms);
            integer(s, "breaker_failures", cfg.delivery.breaker_failures, 0, 1000);
            duration(s, "breaker_cooldown", cfg.delivery.breaker_cooldown_ms);
            lease_warning(s, cfg);
        }
        if (cfg.plugin_paths.empty() && !root["plugins"]) cfg.plugin_paths = {"build/plugins"};

        auto tenants = root["tenants"];
        if (!tenants) error(source_mark{1, 1}, "missing 'tenants': declare at least one tenant");
        else if (!tenants.IsMap()) error(tenants, "'tenants' must be a mapping of tenant id to tenant settings");
        else
            for (auto it = tenants.begin(); it != tenants.end(); ++it) cfg.tenants.push_back(tenant(it->first, it->second));

        return cfg;
    }

    /// Leases are renewed while a job runs; should renewal fail for a whole lease, a send still
    /// waiting for the provider is claimed by another worker and may go out twice: the lease must
    /// outlast the HTTP timeout with room to spare.
    void lease_warning(const YAML::Node& delivery, config& cfg) {
        if (cfg.delivery.lease_ms >= 2 * cfg.delivery.http_timeout_ms) return;
        auto at = delivery["lease"] ? delivery["lease"] : delivery["http_timeout"] ? delivery["http_timeout"] : delivery;
        cfg.warnings.push_back({cfg.file, mark_of(at),
                                "warning: delivery.lease (" + std::to_string(cfg.delivery.lease_ms) +
                                    " ms) is less than twice delivery.http_timeout (" +
                                    std::to_string(cfg.delivery.http_timeout_ms) +
                                    " ms): leases are renewed while a job runs, but if renewing fails for one lease "
                                    "(the database unreachable, the process stalled) a send still waiting for the "
                                    "provider is claimed again and may reach the customer twice; raise delivery.lease"});
    }

    /// One entry of a tenant's `plugins`: `<instance>: { [use: <plugin>,] <setting>: <value>... }`.
    plugin_use plugin(const YAML::Node& key, const YAML::Node& settings, const std::string& where) {
        plugin_use use;
        use.name = use.plugin = key.Scalar();
        use.mark = mark_of(key);
        bool name_ok = !use.name.empty() && std::all_of(use.name.begin(), use.name.end(), [](char c) {
            return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
                   c == '_';
        });
        if (!name_ok)
            error(key, "plugin instance name '" + use.name + "' of " + where +
                           " may use only lowercase letters, digits, '-' and '_' (it appears in URLs)");
        if (settings.IsNull()) return use;
        if (!settings.IsMap()) {
            error(settings, "settings of plugin '" + use.name + "' must be a mapping");
            return use;
        }
        for (auto s = settings.begin(); s != settings.end(); ++s) {
            setting_entry e;
            e.name = s->first.Scalar();
            e.key_mark = mark_of(s->first);
            e.value_mark = mark_of(s->second);
            if (e.name == "use") {
                if (auto v = scalar(s->second, "use")) use.plugin = *v;
                continue;
            }
            if (s->second.IsSequence() || s->second.IsMap()) {
                auto v = collection(s->second, e.name);
                if (!v) continue;
                e.value = *v;
                e.collection = true;
            } else {
                auto v = scalar(s->second, e.name);
                if (!v) continue;
                e.value = *v;
                // A file a setting names (templates_file, catalog_file, app_secret_file...) sits
                // next to the config more often than in the service's working directory.
                if (e.name.size() > 5 && e.name.ends_with("_file") && !e.value.empty() &&
                    std::filesystem::path(e.value).is_relative())
                    e.value = (std::filesystem::path(file_).parent_path() / e.value).lexically_normal().string();
            }
            use.settings.push_back(std::move(e));
        }
        return use;
    }

    /// A YAML sequence of scalars as a JSON array of strings, or a mapping of scalars as a JSON
    /// object of strings (list and map settings, stage parameters); nullopt (and a diagnostic) else.
    std::optional<std::string> collection(const YAML::Node& n, const std::string& key) {
        if (n.IsSequence()) {
            boost::json::array out;
            for (auto item : n) {
                auto v = scalar(item, key + "[]");
                if (!v) return std::nullopt;
                out.emplace_back(*v);
            }
            return boost::json::serialize(out);
        }
        if (n.IsMap()) {
            boost::json::object out;
            for (auto it = n.begin(); it != n.end(); ++it) {
                std::string k = it->first.Scalar();
                if (it->second.IsSequence() || it->second.IsMap()) {
                    auto inner = collection(it->second, key + "." + k);
                    if (!inner) return std::nullopt;
                    out[k] = boost::json::parse(*inner);
                    continue;
                }
                auto v = scalar(it->second, key + "." + k);
                if (!v) return std::nullopt;
                out[k] = *v;
            }
            return boost::json::serialize(out);
        }
        auto v = scalar(n, key);
        if (!v) return std::nullopt;
        return boost::json::serialize(boost::json::value(*v));
    }

    /// `plugin.stage` or `{ stage: plugin.stage, with: {...}, budget: 8s }`.
    std::optional<stage_call> stage_of(const YAML::Node& n, bool in_chain) {
        stage_call c;
        c.mark = mark_of(n);
        if (n.IsScalar()) {
            auto v = scalar(n, "run");
            if (!v) return std::nullopt;
            c.stage = *v;
            return c;
        }
        if (!n.IsMap() || !check_keys(n, "a stage", {"stage", "with", "budget"})) {
            if (!n.IsMap()) error(n, "a stage must be plugin.stage or { stage: plugin.stage, with: {...} }");
            return std::nullopt;
        }
        auto stage = n["stage"];
        if (!stage) {
            error(n, "a stage written as a mapping needs 'stage: plugin.stage'");
            return std::nullopt;
        }
        auto v = scalar(stage, "stage");
        if (!v) return std::nullopt;
        c.stage = *v;
        c.mark = mark_of(stage);
        if (auto with = n["with"]) {
            if (!with.IsMap()) {
                error(with, "'with' must map parameter names to values, e.g. with: { template: escalation }");
                return std::nullopt;
            }
            auto params = collection(with, "with");
            if (!params) return std::nullopt;
            c.params_json = *params;
        }
        if (auto budget = n["budget"]) {
            if (!in_chain) error(budget, "'budget' applies only to a tier of 'first_of'");
            auto b = scalar(budget, "budget");
            if (!b) return std::nullopt;
            auto ms = parse_duration_ms(*b);
            if (!ms || *ms == 0) {
                error(budget, "'budget' must be a duration such as 8s or 500ms, got '" + *b + "'");
                return std::nullopt;
            }
            c.budget_ms = *ms;
        }
        return c;
    }

    /// One entry of `run`: a stage, or `first_of: [stage, ...]`.
    std::optional<route_step> route_step_of(const YAML::Node& n) {
        route_step step;
        step.mark = mark_of(n);
        if (n.IsMap() && n["first_of"]) {
            if (!check_keys(n, "a first_of step", {"first_of"})) return std::nullopt;
            auto tiers = n["first_of"];
            if (!tiers.IsSequence() || tiers.size() < 2) {
                error(tiers, "'first_of' must list at least two stages to try in order");
                return std::nullopt;
            }
            step.first_of = true;
            for (auto tier : tiers)
                if (auto c = stage_of(tier, true)) step.tiers.push_back(std::move(*c));
            return step.tiers.empty() ? std::nullopt : std::optional<route_step>(std::move(step));
        }
        auto c = stage_of(n, false);
        if (!c) return std::nullopt;
        step.tiers.push_back(std::move(*c));
        return step;
    }

    /// A route's `when`: a mapping of event field (dotted path) to a value or a list of values.
    std::vector<route_filter> filters(const YAML::Node& when) {
        std::vector<route_filter> out;
        if (!when.IsMap()) {
            error(when, "'when' must map event fields to a value or a list of values, e.g. "
                        "when: { channel: [messenger, instagram] }");
            return out;
        }
        for (auto it = when.begin(); it != when.end(); ++it) {
            route_filter f;
            f.field = it->first.Scalar();
            f.mark = mark_of(it->first);
            const YAML::Node& v = it->second;
            if (v.IsScalar()) {
                f.values.push_back(v.Scalar());
            } else if (v.IsSequence() && v.size() > 0) {
                for (auto item : v)
                    if (auto s = scalar(item, f.field.c_str())) f.values.push_back(*s);
            } else {
                error(v, "'when: " + f.field + "' must be a value or a non-empty list of values");
                continue;
            }
            if (f.field.empty() || f.field.front() == '.' || f.field.back() == '.')
                error(it->first, "'when' field '" + f.field + "' must name an event field, e.g. channel or contact.provider_id");
            out.push_back(std::move(f));
        }
        return out;
    }

    tenant_config tenant(const YAML::Node& key, const YAML::Node& body) {
        tenant_config t;
        t.id = key.Scalar();
        t.mark = mark_of(key);
        bool id_ok = !t.id.empty() && std::all_of(t.id.begin(), t.id.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        });
        if (!id_ok) error(key, "tenant id '" + t.id + "' may use only letters, digits, '-' and '_' (it appears in URLs)");
        std::string where = "tenant '" + t.id + "'";
        if (!check_keys(body, where, {"plugins", "routes", "reply_debounce"})) return t;
        duration(body, "reply_debounce", t.reply_debounce_ms);
        if (t.reply_debounce_ms < 0 || t.reply_debounce_ms > 10'000)
            error(body["reply_debounce"], "'reply_debounce' of " + where + " must be between 0s and 10s");
        if (auto ps = body["plugins"]) {
            if (!ps.IsMap()) error(ps, "'plugins' of " + where + " must map plugin names to their settings");
            else
                for (auto it = ps.begin(); it != ps.end(); ++it) t.plugins.push_back(plugin(it->first, it->second, where));
        }
        if (auto rs = body["routes"]) {
            if (!rs.IsSequence()) error(rs, "'routes' of " + where + " must be a list");
            else
                for (auto r : rs) {
                    route_config rc;
                    rc.mark = mark_of(r);
                    if (!check_keys(r, "a route of " + where, {"on", "when", "run"})) continue;
                    if (auto on = r["on"]) {
                        if (auto v = scalar(on, "on")) rc.on = *v;
                    } else error(r, "a route of " + where + " needs 'on: <event type>'");
                    if (auto when = r["when"]) rc.when = filters(when);
                    auto run = r["run"];
                    if (!run) error(r, "a route of " + where + " needs 'run: [plugin.stage, ...]'");
                    else if (run.IsSequence())
                        for (auto st : run) {
                            if (auto step = route_step_of(st)) rc.run.push_back(std::move(*step));
                        }
                    else if (auto step = route_step_of(run)) rc.run.push_back(std::move(*step));
                    t.routes.push_back(std::move(rc));
                }
        }
        return t;
    }

private:
public:
    const std::vector<diagnostic>& diagnostics() const { return diags_; }

private:
    std::string file_;
    std::vector<diagnostic> diags_;
};

}  // namespace

config load_config(const std::string& path, std::vector<diagnostic>& diagnostics) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error({{path, {}, "cannot read the configuration file"}});
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    loader l(path);
    auto cfg = l.run(text);
    diagnostics.insert(diagnostics.end(), l.diagnostics().begin(), l.diagnostics().end());
    return cfg;
}

config load_config(const std::string& path) {
    std::vector<diagnostic> diagnostics;
    auto cfg = load_config(path, diagnostics);
    if (!diagnostics.empty()) throw config_error(std::move(diagnostics));
    return cfg;
}

}  // namespace switchboard::core
