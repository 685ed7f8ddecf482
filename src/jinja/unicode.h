// UTF-8 text helpers with Python str semantics: strings index by code point, whitespace is str.isspace(),
// case mapping follows str.upper()/lower() for Latin, Greek, Cyrillic and fullwidth letters (other scripts have
// no case mapping here; of the letters whose upper case is several letters only 'ß' → "SS" is mapped).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pagedllm::jinja {

// Decodes UTF-8; an invalid byte decodes as U+FFFD (input from JSON is valid, so this only guards).
std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
void utf8_append(std::string& out, char32_t cp);
size_t utf8_length(std::string_view s);  // number of code points

bool is_py_space(char32_t cp);      // str.isspace()
bool is_py_printable(char32_t cp);  // str.isprintable(), approximated by the Unicode control/format/separator blocks
bool is_cased(char32_t cp);         // has an upper or lower case form
bool is_upper_cp(char32_t cp);
bool is_lower_cp(char32_t cp);
char32_t to_upper_cp(char32_t cp);
char32_t to_lower_cp(char32_t cp);

std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_capitalize(std::string_view s);  // str.capitalize(): first upper, rest lower
std::string py_str_title(std::string_view s);   // str.title()

// str.strip/lstrip/rstrip: with chars == nullptr strips whitespace, else any code point in *chars.
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split(sep, maxsplit); sep == nullptr splits on whitespace runs. maxsplit < 0: no limit.
std::vector<std::string> py_split(std::string_view s, const std::string* sep, int64_t maxsplit);
// str.rsplit(sep, maxsplit).
std::vector<std::string> py_rsplit(std::string_view s, const std::string* sep, int64_t maxsplit);
// str.replace(old, new, count); count < 0: all.
std::string py_replace(std::string_view s, std::string_view old_text, std::string_view new_text, int64_t count);

}  // namespace pagedllm::jinja
