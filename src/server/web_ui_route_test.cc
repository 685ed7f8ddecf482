#include <gtest/gtest.h>

#include "server/test_server_fixture.h"
#include "server/web_ui_assets.h"

namespace pagedllm {
namespace {

using nlohmann::json;

class WebUiRouteTest : public ServerFixture {
 protected:
  httplib::Result fetch(const std::string& path) const { return client().Get(path.c_str()); }
};

TEST_F(WebUiRouteTest, RootServesTheEmbeddedPageAsHtml) {
  httplib::Result result = fetch("/");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(result->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(result->get_header_value("Content-Security-Policy").rfind("default-src 'self';", 0), 0u)
      << "the page may load nothing from elsewhere";
  EXPECT_EQ(result->body, read_text_file(PAGEDLLM_SOURCE_DIR "/web/index.html"));
}

TEST_F(WebUiRouteTest, ScriptsAndStylesComeWithTheirTypes) {
  for (const auto& [name, type] : {std::pair{"app.mjs", "text/javascript; charset=utf-8"},
                                   std::pair{"markdown.mjs", "text/javascript; charset=utf-8"},
                                   std::pair{"style.css", "text/css; charset=utf-8"}}) {
    httplib::Result result = fetch(std::string("/web/") + name);
    ASSERT_TRUE(result) << name;
    EXPECT_EQ(result->status, 200) << name;
    EXPECT_EQ(result->get_header_value("Content-Type"), type) << name;
    EXPECT_EQ(result->body, read_text_file(std::string(PAGEDLLM_SOURCE_DIR "/web/") + name)) << name;
  }
}

TEST_F(WebUiRouteTest, EveryFileOfTheWebFolderIsEmbedded) {
  std::vector<std::string> names;
  for (const WebAsset& asset : web_ui_assets()) names.emplace_back(asset.name);
  EXPECT_EQ(names, (std::vector<std::string>{"app.mjs", "chat_api.mjs", "index.html", "markdown.mjs", "store.mjs",
                                             "style.css"}));
}

TEST_F(WebUiRouteTest, UnknownFileIsNotFoundInOpenAIShape) {
  httplib::Result result = fetch("/web/missing.mjs");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 404);
  EXPECT_EQ(json::parse(result->body)["error"]["message"], "Not Found: GET /web/missing.mjs");
  EXPECT_EQ(fetch("/web/../CMakeLists.txt")->status, 404);
}

TEST_F(WebUiRouteTest, PageLoadsWithoutTheApiKeySoItCanAskForIt) {
  ServerConfig config = default_config();
  config.api_key = "sekret";
  restart(config);
  EXPECT_EQ(fetch("/")->status, 200);
  EXPECT_EQ(fetch("/web/app.mjs")->status, 200);
  EXPECT_EQ(fetch("/v1/models")->status, 401);
}

TEST_F(WebUiRouteTest, NoWebUiAnswersNotFound) {
  ServerConfig config = default_config();
  config.enable_web_ui = false;
  restart(config);
  httplib::Result result = fetch("/");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 404);
  EXPECT_EQ(json::parse(result->body), (json{{"error",
                                               {{"message", "Not Found: GET /"},
                                                {"type", "NotFoundError"},
                                                {"param", nullptr},
                                                {"code", 404}}}}));
  EXPECT_EQ(fetch("/web/app.mjs")->status, 404);
  EXPECT_EQ(fetch("/v1/models")->status, 200) << "the API is unaffected";
}

}  // namespace
}  // namespace pagedllm
