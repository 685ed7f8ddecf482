#include "tokenizer/sentencepiece_tokenizer.h"

#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <fstream>

#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace pagedllm {
namespace {

// Trains a 100-piece SentencePiece BPE model (ids 0/1/2 = <unk>/<s>/</s>) into a fresh folder.
class SentencePieceFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / "pagedllm_sentencepiece_test";
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream corpus(dir_ / "corpus.txt");
    for (int i = 0; i < 50; ++i) {
      corpus << "Once upon a time there was a little girl named Lily.\n"
             << "She liked to play outside with her friend Tom in the sun.\n";
    }
    corpus.close();
    const auto status = sentencepiece::SentencePieceTrainer::Train(
        "--input=" + (dir_ / "corpus.txt").string() + " --model_prefix=" + (dir_ / "tokenizer").string() +
        " --vocab_size=100 --model_type=bpe --byte_fallback=false --minloglevel=2");
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SentencePieceFolder, FolderWithoutTokenizerJsonUsesTokenizerModel) {
  const auto t = Tokenizer::from_path(dir_.string());
  EXPECT_EQ(t->vocab_size(), 100);
  EXPECT_EQ(t->bos_token(), "<s>");
  EXPECT_EQ(t->eos_token(), "</s>");
  EXPECT_EQ(t->bos_token_id(), 1);
  EXPECT_EQ(t->eos_token_id(), 2);
  EXPECT_TRUE(t->is_special(1));
  EXPECT_FALSE(t->is_special(10));
  EXPECT_EQ(t->token_to_id("<s>"), 1);
  EXPECT_EQ(t->token_to_id("no such piece"), std::nullopt);

  const auto ids = t->encode("Once upon a time", true);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], 1);
  const auto plain = t->encode("Once upon a time", false);
  EXPECT_EQ(std::vector<int32_t>(ids.begin() + 1, ids.end()), plain);
  EXPECT_EQ(t->decode(plain), "Once upon a time");
  EXPECT_EQ(t->decode(ids, true), "Once upon a time");
}

TEST_F(SentencePieceFolder, NotAModelIsCorrupt) {
  std::ofstream(dir_ / "bad.model") << "not a protobuf";
  try {
    Tokenizer::from_path((dir_ / "bad.model").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
  }
}

}  // namespace
}  // namespace pagedllm
