// switchboard/templates/catalog.hpp — a tenant's product and FAQ catalog: what templates.reply
// answers a price or availability question from, and what the model tiers' `recommend` stage puts
// in front of the model.
//
// A CSV file (RFC 4180, UTF-8, a header row naming the columns) or a YAML file (a list of
// mappings, or a mapping with a `products` list) with, per entry:
//   name         required: the product, or an FAQ entry's question
//   price        a number (the tenant's currency, written as given: "45000", "12.50"); empty for FAQ
//   stock        a whole number ≥ 0; empty = not tracked
//   description  free text (an FAQ entry's answer)
//   keywords     words customers use for it, ';'-separated in CSV, a list in YAML, in the keyword
//                syntax of keyword_index.hpp ("jacket", "куртк*", "winter coat")
#pragma once

#include <switchboard/templates/keyword_index.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::templates {

/// One catalog entry.
struct catalog_entry {
    std::string name;
    std::string price;            ///< as written ("" = none: an FAQ entry)
    std::optional<int64_t> stock; ///< nullopt = not tracked
    std::string description;
    std::vector<std::string> keywords;
    std::size_t line = 0;         ///< where it is defined, for messages
};

class product_catalog {
public:
    /// An empty catalog: search() finds nothing.
    product_catalog() = default;

    /// Reads a .csv, .yaml or .yml file.
    /// @throws sdk::plugin_error(invalid) "FILE:LINE: ..." naming the column or key at fault (a
    ///         missing header or name, a price that is not a number, a negative or fractional stock,
    ///         an unknown column, a keyword without a letter), or for another extension or an
    ///         unreadable file.
    static product_catalog load_file(const std::filesystem::path& file);

    /// Parses CSV text; `source` names it in errors. @throws as load_file().
    static product_catalog parse_csv(std::string_view text, std::string_view source);

    /// Parses YAML text; `source` names it in errors. @throws as load_file().
    static product_catalog parse_yaml(std::string_view text, std::string_view source);

    /// The entries whose name words or keywords occur in `text`, best first (more matched keywords
    /// first, then in stock before out of stock, then file order), at most `limit`.
    std::vector<const catalog_entry*> search(std::string_view text, std::size_t limit = 3) const;

    const std::vector<catalog_entry>& entries() const noexcept { return entries_; }

private:
    /// Validates and indexes `e` (its name's words of 3 letters or more and its keywords).
    void add(catalog_entry e, std::string_view source);

    std::vector<catalog_entry> entries_;
    keyword_index index_;  ///< tags: entry indexes
};

/// One line describing an entry for a customer or a model: "Name — 45000 (in stock: 3): description"
/// in English, "Name — 45000 (үлдэгдэл: 3): description" in Mongolian ("mn"); out of stock says so.
std::string describe(const catalog_entry& e, std::string_view locale_code);

}  // namespace switchboard::templates
