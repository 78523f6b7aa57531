// switchboard/core/plugins/registry.hpp — the running plugin instances: which tenant runs which
// plugin, which provider accounts each instance owns, and which instances failed to start.
// Filled once at start-up, read-only afterwards (safe to read from any thread).
#pragma once

#include <switchboard/core/plugins/instance.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace switchboard::core {

class instance_registry {
public:
    /// Registers a started instance under (its tenant, its plugin) and the account ids it owns.
    void add(std::unique_ptr<plugin_instance> instance);
    /// Records that (tenant, plugin) failed to start (its webhooks are answered 503; the reason is
    /// in the log).
    void add_failure(const std::string& tenant, const std::string& plugin);
    /// Marks `plugin` as enabled by some tenant: it has webhook routes.
    void serve(const std::string& plugin);

    /// The instance of `plugin` for `tenant`, or nullptr.
    plugin_instance* find(const std::string& tenant, const std::string& plugin) const;
    /// True when (tenant, plugin) was configured but failed to start.
    bool failed(const std::string& tenant, const std::string& plugin) const;
    /// True when `type` is a command: one of the SDK's, or declared by a plugin `tenant` runs.
    bool is_command(const std::string& tenant, const std::string& type) const;
    /// The plugin the first started instance named `instance` runs, or nullptr (no lookup per tenant:
    /// the webhook router asks on every request).
    const loaded_plugin* plugin_of(const std::string& instance) const;
    /// True when some tenant enables `plugin`.
    bool serves(const std::string& plugin) const;
    /// Every started instance of `plugin`, in tenant order.
    std::vector<plugin_instance*> instances_of(const std::string& plugin) const;
    /// The instances of `plugin` that own provider account `account_id` (page id...).
    std::vector<plugin_instance*> owners(const std::string& plugin, const std::string& account_id) const;

private:
    std::map<std::string, std::map<std::string, std::unique_ptr<plugin_instance>>> instances_; // tenant → plugin
    std::map<std::string, std::map<std::string, std::vector<plugin_instance*>>> accounts_;   // plugin → account
    std::map<std::string, std::set<std::string>> failed_;                                   // tenant → plugins
    std::set<std::string> served_;
    std::map<std::string, const loaded_plugin*> plugins_; // instance name → plugin of its first instance
};

}  // namespace switchboard::core
