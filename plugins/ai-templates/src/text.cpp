#include <switchboard/templates/text.hpp>

namespace switchboard::templates {
namespace {

struct code_point {
    char32_t value;    // U+FFFD for an invalid sequence
    std::size_t size;  // bytes consumed, at least 1
    bool valid;
};

// Decodes one UTF-8 sequence at text[i], rejecting overlong forms, surrogates and values past U+10FFFF
// so that no two byte strings lowercase to the same text by accident.
code_point decode(std::string_view text, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) return {b0, 1, true};
    std::size_t need = 0;
    char32_t cp = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        need = 1, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        need = 2, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        need = 3, cp = b0 & 0x07, min = 0x10000;
    } else {
        return {0xFFFD, 1, false};
    }
    for (std::size_t k = 1; k <= need; ++k) {
        if (i + k >= text.size() || (byte(i + k) & 0xC0) != 0x80) return {0xFFFD, 1, false};
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0xFFFD, 1, false};
    return {cp, need + 1, true};
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

char32_t lower(char32_t c) {
    if (c >= U'A' && c <= U'Z') return c + 0x20;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;  // Latin-1, except ×
    if (c >= 0x0400 && c <= 0x040F) return c + 0x50;          // Ѐ..Џ, among them Ё → ё
    if (c >= 0x0410 && c <= 0x042F) return c + 0x20;          // А..Я
    // Cyrillic extensions come in upper/lower pairs; the upper letter has the even code point
    // (Ү U+04AE / ү U+04AF, Ө U+04E8 / ө U+04E9), except in U+04C1..U+04CE where it is odd.
    if ((c >= 0x0460 && c <= 0x0481) || (c >= 0x048A && c <= 0x04BF) || (c >= 0x04D0 && c <= 0x052F))
        return c % 2 == 0 ? c + 1 : c;
    if (c == 0x04C0) return 0x04CF;  // Ӏ palochka
    if (c >= 0x04C1 && c <= 0x04CE) return c % 2 == 1 ? c + 1 : c;
    return c;
}

bool is_latin_letter(char32_t c) {
    return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') ||
           (c >= 0xC0 && c <= 0x024F && c != 0xD7 && c != 0xF7);
}

bool is_cyrillic(char32_t c) { return c >= 0x0400 && c <= 0x052F; }

bool is_word_char(char32_t c) {
    return (c >= U'0' && c <= U'9') || is_latin_letter(c) || is_cyrillic(c) ||
           (c >= 0x0300 && c <= 0x036F);  // combining marks: a decomposed "й" stays one word
}

}  // namespace

std::string utf8_lower(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        code_point cp = decode(text, i);
        if (cp.valid)
            append_utf8(out, lower(cp.value));
        else
            out.push_back(text[i]);
        i += cp.size;
    }
    return out;
}

std::string normalize_for_matching(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool pending_space = false;
    for (std::size_t i = 0; i < text.size();) {
        code_point cp = decode(text, i);
        i += cp.size;
        char32_t c = cp.valid ? lower(cp.value) : 0xFFFD;
        if (!is_word_char(c)) {
            pending_space = !out.empty();
            continue;
        }
        switch (c) {
        case 0x04E9: c = 0x043E; break;  // ө → о
        case 0x04AF: c = 0x0443; break;  // ү → у
        case 0x0451: c = 0x0435; break;  // ё → е
        default: break;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        append_utf8(out, c);
    }
    return out;
}

std::u32string utf8_to_u32(std::string_view text) {
    std::u32string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        code_point cp = decode(text, i);
        out.push_back(cp.value);
        i += cp.size;
    }
    return out;
}

std::string u32_to_utf8(std::u32string_view text) {
    std::string out;
    out.reserve(text.size() * 2);
    for (char32_t c : text) append_utf8(out, c);
    return out;
}

letter_counts count_letters(std::string_view text) {
    letter_counts counts;
    for (std::size_t i = 0; i < text.size();) {
        code_point cp = decode(text, i);
        i += cp.size;
        if (!cp.valid) continue;
        if (is_latin_letter(cp.value))
            ++counts.latin;
        else if (is_cyrillic(cp.value) && (cp.value < 0x0482 || cp.value > 0x0489))  // skip signs and marks
            ++counts.cyrillic;
    }
    return counts;
}

}  // namespace switchboard::templates
