// switchboard/templates/template_store.hpp — the reply texts and their placeholder rendering.
#pragma once

#include <switchboard/sdk/text.hpp>
#include <switchboard/templates/intent.hpp>
#include <switchboard/templates/locale.hpp>

#include <array>
#include <boost/json/value.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::templates {

/**
 * One reply text per locale and intent.
 *
 * The shipped texts are share/templates/replies.json, embedded at build time; a tenant's
 * `templates_file` overrides any subset of them in the same shape:
 *   {"en": {"greeting": "Hi {contact_name}!", ...}, "mn": {...}}
 */
class template_store {
public:
    /// An empty store (every text ""). Use shipped() for a complete one.
    template_store() = default;

    /// A copy of the shipped texts (share/templates/replies.json), complete for every locale and intent.
    /// @throws sdk::plugin_error(final) if the embedded file is malformed or incomplete (a build defect).
    static template_store shipped();

    /// Replaces the texts named in `doc`, leaving the others as they are (partial overrides allowed).
    /// Nothing is changed when it throws.
    /// @param doc     a document shaped like share/templates/replies.json
    /// @param source  what to call the document in error messages (the file name)
    /// @throws sdk::plugin_error(invalid) naming `source` and the key when `doc` is not an object of
    ///         objects, a locale or intent is unknown (with a did-you-mean), or a text is not a non-empty string.
    void apply_overrides(const boost::json::value& doc, std::string_view source);

    /// Parses `json` (strict JSON) and applies it with apply_overrides().
    /// @throws sdk::plugin_error(invalid) naming `source` when it is not valid JSON (with line and
    ///         column) or apply_overrides() refuses it.
    void apply_overrides_json(std::string_view json, std::string_view source);

    /// Reads the JSON file at `path` and applies it with apply_overrides().
    /// @throws sdk::plugin_error(invalid) naming the file when it cannot be read, is not valid JSON
    ///         (with line and column), or apply_overrides() refuses it.
    void apply_overrides_file(const std::string& path);

    /// The text of one reply, placeholders not yet rendered ("" in an incomplete store).
    const std::string& text(locale l, intent i) const noexcept { return texts_[index_of(l)][index_of(i)]; }

    /// Keys ("mn.greeting") that have no text, in locale then intent order; empty for a complete store.
    std::vector<std::string> missing() const;

private:
    std::array<std::array<std::string, intent_count>, locale_count> texts_;
};

/// A named value for render(): `{name}` in a template becomes `value`.
struct placeholder {
    std::string_view name;   ///< without braces, e.g. "business_name"
    std::string_view value;  ///< UTF-8 text inserted as is (never rendered again)
};

/// Substitutes `{name}` placeholders in a template, in a single pass.
///   - a name not in `values` is left as written ("{order_id}" stays "{order_id}"), as is any brace
///     that does not enclose a name of [a-z0-9_] characters;
///   - an empty value also removes the space before the placeholder, so "Hi {contact_name}!" renders
///     "Hi!" when the customer's name is unknown.
/// @returns the rendered text.
std::string render(std::string_view tmpl, std::span<const placeholder> values);

/// The edit distance between two strings (bytes), for did-you-mean suggestions (the SDK's).
using switchboard::sdk::text::edit_distance;

}  // namespace switchboard::templates
