// bt_video_tokens end to end on a small generated video with the fixture's tower and projector.

#include "conversation_fixture.h"

#include "btadapter/chat/video_tower_weights.h"
#include "btadapter/data/conversation_frames.h"
#include "btadapter/data/video_writer.h"
#include "btadapter/io/sha256.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace btadapter::testing {
namespace {

TEST(BtVideoTokens, WritesTokensProjectedTokensAndMetadata) {
  const auto& f = conversation_fixture();
  TempDir dir;
  const std::string video = (dir / "clip.mp4").string();
  data::write_video(video, torch::randint(0, 256, {12, 48, 64, 3}, torch::kUInt8));
  const std::string out = (dir / "tokens.safetensors").string();
  const std::string clip = f.file("vision_tower_clip.safetensors"), adapter = f.file("btadapter.safetensors"),
                    projector = f.file("mm_projector.safetensors");
  const auto result = run_command(tool_path("bt_video_tokens").string() + " --clip '" + clip + "' --adapter '" +
                                  adapter + "' --projector '" + projector + "' --video '" + video +
                                  "' --frames 6 -o '" + out + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto summary = nlohmann::json::parse(result.output.substr(result.output.rfind('{')));
  EXPECT_EQ(summary.at("videos"), 1);
  EXPECT_EQ(summary.at("frame_rule"), "official");

  io::Metadata meta;
  const auto tensors = io::read_safetensors(out, &meta);
  auto tower = chat::load_video_tower(clip, adapter);
  const auto frames = data::read_conversation_video(
      video, data::ConversationFrameOptions().num_frames(6).image_size(tower->options().image_size()));
  const auto tokens = tower->video_tokens(frames.frames);
  EXPECT_TRUE(torch::allclose(tensors.at("video.0.tokens"), tokens, 1e-5, 1e-6));
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(tensors.at("video.0.projected"),
                              chat::load_projector(projector).mm_projector->forward(tokens), 1e-5, 1e-6));
  EXPECT_EQ(summary.at("tokens"), nlohmann::json(tokens.sizes().vec()));
  EXPECT_EQ(meta.at("clip_sha256"), io::sha256_file(clip));
  EXPECT_EQ(meta.at("adapter_sha256"), io::sha256_file(adapter));
  EXPECT_EQ(meta.at("projector_sha256"), io::sha256_file(projector));
  EXPECT_EQ(meta.at("video.0.frame_indices"), nlohmann::json(data::conversation_frame_indices(12, 6)).dump());
  EXPECT_EQ(meta.at("frames"), "6");
  EXPECT_NE(meta.at("layer").find("hidden_states[-2]"), std::string::npos);

  // Errors: one line, non-zero exit.
  const auto missing = run_command(tool_path("bt_video_tokens").string() + " --clip '" + clip + "' --adapter '" +
                                   adapter + "' --video '" + (dir / "none.mp4").string() + "' -o '" + out + "'");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("bt_video_tokens: "), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace btadapter::testing
