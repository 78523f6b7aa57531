// The running plugin instances by tenant, plugin and provider account.
#include <switchboard/core/plugins/registry.hpp>

#include <switchboard/sdk/events.hpp>

namespace switchboard::core {

void instance_registry::add(std::unique_ptr<plugin_instance> instance) {
    for (auto& id : instance->account_ids())
        if (!id.empty()) accounts_[instance->name()][id].push_back(instance.get());
    plugins_.emplace(instance->name(), &instance->plugin());
    auto& slot = instances_[instance->tenant()][instance->name()];
    slot = std::move(instance);
}

void instance_registry::add_failure(const std::string& tenant, const std::string& plugin) {
    failed_[tenant].insert(plugin);
}

void instance_registry::serve(const std::string& plugin) { served_.insert(plugin); }

plugin_instance* instance_registry::find(const std::string& tenant, const std::string& plugin) const {
    auto t = instances_.find(tenant);
    if (t == instances_.end()) return nullptr;
    auto p = t->second.find(plugin);
    return p == t->second.end() ? nullptr : p->second.get();
}

bool instance_registry::failed(const std::string& tenant, const std::string& plugin) const {
    auto t = failed_.find(tenant);
    return t != failed_.end() && t->second.count(plugin) > 0;
}

bool instance_registry::serves(const std::string& plugin) const { return served_.count(plugin) > 0; }

const loaded_plugin* instance_registry::plugin_of(const std::string& instance) const {
    auto it = plugins_.find(instance);
    return it == plugins_.end() ? nullptr : it->second;
}

bool instance_registry::is_command(const std::string& tenant, const std::string& type) const {
    if (switchboard::sdk::events::is_command(type)) return true;
    auto t = instances_.find(tenant);
    if (t == instances_.end()) return false;
    for (auto& [name, inst] : t->second)
        if (inst->plugin().executes(type)) return true;
    return false;
}

std::vector<plugin_instance*> instance_registry::instances_of(const std::string& plugin) const {
    std::vector<plugin_instance*> out;
    for (auto& [tenant, by_plugin] : instances_)
        if (auto it = by_plugin.find(plugin); it != by_plugin.end()) out.push_back(it->second.get());
    return out;
}

std::vector<plugin_instance*> instance_registry::owners(const std::string& plugin, const std::string& account_id) const {
    auto p = accounts_.find(plugin);
    if (p == accounts_.end()) return {};
    auto a = p->second.find(account_id);
    return a == p->second.end() ? std::vector<plugin_instance*>{} : a->second;
}

}  // namespace switchboard::core
