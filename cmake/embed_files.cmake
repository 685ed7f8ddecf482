# cmake -DSOURCE_DIR=dir -DOUTPUT=file.cc -P embed_files.cmake
# Writes a C++ file that holds every *.html, *.css, *.mjs and *.svg file of SOURCE_DIR (not its sub-folders) as a
# byte array, with the table `web_ui_assets()` declared in src/server/web_ui_assets.h. Run at build time, so the
# binary carries the chat page and needs no files beside it.
file(GLOB files RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/*.html ${SOURCE_DIR}/*.css ${SOURCE_DIR}/*.mjs ${SOURCE_DIR}/*.svg)
list(SORT files)
set(arrays "")
set(table "")
set(index 0)
string(REPEAT "0x..," 24 row)  # CMake's regular expressions have no {n}
foreach(name ${files})
  file(READ ${SOURCE_DIR}/${name} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(${row})" "\\1\n    " bytes "${bytes}")
  # A trailing 0 keeps an empty file's array legal; the view leaves it out.
  string(APPEND arrays "const unsigned char kAsset${index}[] = {\n    ${bytes}0};\n")
  string(APPEND table "      {\"${name}\", std::string_view(reinterpret_cast<const char*>(kAsset${index}), "
                      "sizeof(kAsset${index}) - 1)},\n")
  math(EXPR index "${index} + 1")
endforeach()
set(content "// Generated from ${SOURCE_DIR} by cmake/embed_files.cmake at build time; edit the files there.
#include \"server/web_ui_assets.h\"

namespace pagedllm {
namespace {

${arrays}
}  // namespace

std::span<const WebAsset> web_ui_assets() {
  static const WebAsset kAssets[] = {
${table}  };
  return kAssets;
}

}  // namespace pagedllm
")
file(WRITE ${OUTPUT} "${content}")
