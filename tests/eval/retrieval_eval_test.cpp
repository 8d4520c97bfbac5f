// The retrieval runner and bt_eval_retrieval on generated videos: a brute-force re-computation of the
// whole evaluation, known answers through injected (cached) embeddings, skipped videos, direction accuracy.
#include "btadapter/eval/retrieval_eval.h"

#include "../api/api_test_helpers.h"
#include "btadapter/eval/direction_eval.h"
#include "btadapter/eval/embedding_cache.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace btadapter::eval {
namespace {

using namespace btadapter::testing;
using btadapter::testing::expect_error;
namespace fs = std::filesystem;

/// Four videos, five captions (video1 has two), in MSR-VTT's JSON dict format.
struct RetrievalFixture {
  TempDir dir;
  std::string annotations = (dir / "test.json").string();
  std::string root = (dir / "videos").string();
  std::vector<std::string> captions{"a red bar sweeps right", "a blue field", "a bar on blue", "green", "a bright bar"};
  RetrievalFixture() {
    fs::create_directories(root);
    for (int v = 0; v < 4; ++v) write_test_video(root + "/video" + std::to_string(v) + ".mp4", v);
    write_text(annotations, R"({"video0.mp4": ["a red bar sweeps right"], "video1.mp4": ["a blue field", "a bar on blue"],
                               "video2.mp4": ["green"], "video3.mp4": ["a bright bar"]})");
  }
  std::string video(int v) const { return root + "/video" + std::to_string(v) + ".mp4"; }
};

RetrievalEvalOptions options_for(const RetrievalFixture& f) {
  return RetrievalEvalOptions(f.annotations, "msrvtt-json")
      .root(f.root)
      .dataset("test")
      .video(VideoOptions().num_frames(4).batch_size(3));
}

TEST(RetrievalEval, MatchesABruteForceEvaluation) {
  RetrievalFixture f;
  const auto model = Model::load(tiny_official(), tiny_options());
  const auto r = run_retrieval_eval(*model, options_for(f));
  ASSERT_EQ(r.videos.size(), 4u);
  EXPECT_EQ(r.texts, f.captions);
  EXPECT_TRUE(torch::equal(r.text_to_video, torch::tensor({0, 1, 1, 2, 3}, torch::kLong)));
  EXPECT_FALSE(r.from_cache);
  // The time split: waiting for the decoding workers is part of the encoding time, and encoding took some.
  EXPECT_GT(r.encode_seconds, 0.0);
  EXPECT_GE(r.decode_wait_seconds, 0.0);
  EXPECT_LT(r.decode_wait_seconds, r.encode_seconds);

  // The same evaluation by hand: encode each video alone, rank in float64.
  std::vector<torch::Tensor> rows;
  for (int v = 0; v < 4; ++v) rows.push_back(model->encode_videos({f.video(v)}, VideoOptions().num_frames(4))[0]);
  const auto videos = torch::stack(rows).to(torch::kDouble);
  const auto texts = model->encode_texts(f.captions).to(torch::kDouble);
  const auto sim = texts.matmul(videos.t());
  BT_EXPECT_CLOSE(r.similarity, sim, 1e-5, 0);
  const std::vector<int64_t> gt{0, 1, 1, 2, 3};
  double r1 = 0, mean_rank = 0;
  for (int64_t t = 0; t < 5; ++t) {
    const int64_t rank = (sim[t] >= sim[t][gt[t]]).sum().item<int64_t>();
    r1 += rank == 1;
    mean_rank += rank;
  }
  EXPECT_DOUBLE_EQ(r.metrics.t2v.recall_at(1), r1 / 5 * 100);
  EXPECT_DOUBLE_EQ(r.metrics.t2v.mean_rank, mean_rank / 5);
  // v2t: each video's best-ranked caption among the 5 texts.
  for (int64_t v = 0; v < 4; ++v) {
    double best = -2;
    for (int64_t t = 0; t < 5; ++t) {
      if (gt[t] == v) best = std::max(best, sim[t][v].item<double>());
    }
    int64_t rank = 1;
    for (int64_t t = 0; t < 5; ++t) rank += gt[t] != v && sim[t][v].item<double>() >= best;
    EXPECT_EQ(r.metrics.v2t_ranks[v].item<int64_t>(), rank) << "video " << v;
  }
}

TEST(RetrievalEval, InjectedEmbeddingsGiveTheKnownAnswerWithoutDecoding) {
  RetrievalFixture f;
  const auto model = Model::load(tiny_official(), tiny_options());
  const std::string cache_path = (f.dir / "cache.safetensors").string();
  auto options = options_for(f).embeddings_cache(cache_path);
  run_retrieval_eval(*model, options);  // writes the cache

  // Inject unit vectors: text t points at video answer[t]; text 3 ties exactly between videos 2 and 3.
  EmbeddingCache cache = read_embedding_cache(cache_path);
  ASSERT_EQ(cache.video_embeddings.size(0), 4);
  auto videos = torch::zeros({4, 32});
  for (int v = 0; v < 4; ++v) videos[v][v] = 1;
  auto texts = torch::zeros({5, 32});
  texts[0][0] = 1;  // rank 1
  texts[1][2] = 1;  // its video 1 scores 0 like videos 0 and 3: pessimistic rank 4
  texts[2][1] = 1;  // rank 1
  texts[3][2] = texts[3][3] = 1 / std::sqrt(2.0);  // tie with video 3: rank 2 (pessimistic)
  texts[4][3] = 1;  // rank 1
  cache.video_embeddings = videos;
  cache.text_embeddings = texts;
  write_embedding_cache(cache_path, cache);
  for (int v = 0; v < 4; ++v) fs::remove(f.video(v));  // nothing may be decoded now

  const auto r = run_retrieval_eval(*model, options);
  EXPECT_TRUE(r.from_cache);
  EXPECT_EQ(r.decode_wait_seconds, 0.0);
  EXPECT_TRUE(torch::equal(r.metrics.t2v_ranks, torch::tensor({1, 4, 1, 2, 1}, torch::kLong)));
  EXPECT_DOUBLE_EQ(r.metrics.t2v.recall_at(1), 60.0);
  EXPECT_DOUBLE_EQ(r.metrics.t2v.median_rank, 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.t2v.mean_rank, 9.0 / 5);
    const auto official = run_retrieval_eval(*model, RetrievalEvalOptions(options).metrics(
                                                       RetrievalMetricsOptions().official_compat(true)));
  // Official-compat: one entry per tied position (row 1 ties 3 videos, row 3 two): 8 entries, 4 at 0.
  EXPECT_EQ(official.metrics.t2v_ranks.size(0), 8);
  EXPECT_DOUBLE_EQ(official.metrics.t2v.recall_at(1), 50.0);

  // Another frame count makes the cache stale: the (deleted) videos would have to be decoded.
  auto stale = RetrievalEvalOptions(options).video(VideoOptions().num_frames(5));
  expect_error([&] { run_retrieval_eval(*model, stale); }, "missing video '");
}

TEST(RetrievalEval, UnreadableVideosAreAnErrorOrSkippedAndCounted) {
  RetrievalFixture f;
  write_text(f.video(1), "not a video");
  const auto model = Model::load(tiny_official(), tiny_options());
  expect_error([&] { run_retrieval_eval(*model, options_for(f)); }, "video1.mp4");

  const auto r = run_retrieval_eval(*model, options_for(f).skip_bad_videos(true).log([](const std::string&) {}));
  EXPECT_EQ(r.skipped_videos, std::vector<std::string>{f.video(1)});
  EXPECT_EQ(r.texts_dropped, 2);
  EXPECT_EQ(r.videos.size(), 3u);
  EXPECT_EQ(r.texts, (std::vector<std::string>{"a red bar sweeps right", "green", "a bright bar"}));
  EXPECT_TRUE(torch::equal(r.text_to_video, torch::tensor({0, 1, 2}, torch::kLong)));
  const auto json = nlohmann::json::parse(results_to_json(retrieval_eval_results(*model, options_for(f), r)));
  EXPECT_EQ(json["counts"]["videos_skipped"], 1);
}

TEST(RetrievalEval, DirectionAccuracyCountsTiesAsHalf) {
  // Pair 0: both captions prefer their own video; pair 1: identical videos (all ties).
  const auto fv = torch::tensor({{1.0, 0.0}, {0.6, 0.8}}), rv = torch::tensor({{0.0, 1.0}, {0.6, 0.8}});
  const auto ft = torch::tensor({{1.0, 0.0}, {1.0, 0.0}}), rt = torch::tensor({{0.0, 1.0}, {0.0, 1.0}});
  const auto m = direction_accuracy(fv, rv, ft, rt);
  EXPECT_EQ(m.texts, 4);
  EXPECT_EQ(m.wins, 2);
  EXPECT_EQ(m.ties, 2);
  EXPECT_DOUBLE_EQ(m.accuracy, 75.0);
}

TEST(RetrievalEval, FrameMeanBaselineIsBlindToDirection) {
  TempDir dir;
  data::write_video((dir / "f.mp4").string(), test_frames(3));
  data::write_video((dir / "r.mp4").string(), test_frames(3).flip(0));
  write_text((dir / "pairs.json").string(), R"({"annotations": "test.json", "pairs": [{"forward": "f.mp4",
      "reversed": "r.mp4", "forward_caption": "a bar moves right", "reversed_caption": "a bar moves left"}]})");
  const auto clip = Model::load(tiny_clip(), tiny_options());
  const auto options = DirectionEvalOptions().root(dir.path().string()).video(VideoOptions().num_frames(6));
  const auto m = run_direction_eval(*clip, (dir / "pairs.json").string(), options);
  EXPECT_EQ(m.ties, 2);
  EXPECT_DOUBLE_EQ(m.accuracy, 50.0);
  const auto adapter = Model::load(tiny_official(), tiny_options());
  const auto a = run_direction_eval(*adapter, (dir / "pairs.json").string(), options);
  EXPECT_EQ(a.ties, 0);  // the branch sees frame order
  // The twins' own files: the same pair, encoded independently (runs, any score).
  const auto files = run_direction_eval(*adapter, (dir / "pairs.json").string(),
                                        DirectionEvalOptions(options).reversed_from_files(true));
  EXPECT_EQ(files.texts, 2);
  write_text((dir / "bad.json").string(), R"({"pairs": [{"forward": "f.mp4"}]})");
  expect_error([&] { read_direction_pairs((dir / "bad.json").string()); },
               "pair 1: expected a non-empty string 'reversed'");
}

TEST(RetrievalEval, PresetsFollowTheOfficialConfigs) {
  EXPECT_EQ(dataset_preset("msrvtt").num_frames, 12);
  EXPECT_EQ(dataset_preset("msrvtt").truncate, "official:32");
  EXPECT_EQ(dataset_preset("didemo").short_side_224, 256);
  EXPECT_EQ(dataset_preset("anet").format, "paragraph-json");
  EXPECT_EQ(scaled_short_side(256, 224), 256);
  EXPECT_EQ(scaled_short_side(256, 32), 37);
  expect_error([] { dataset_preset("msvd"); }, "unknown dataset preset 'msvd'; expected one of: msrvtt");
}

TEST(BtEvalRetrieval, SyntheticPairsGiveTheKnownDirectionAnswers) {
  // bt_make_synthetic's time-reversed pairs: the frozen-CLIP baseline (mean of frames) cannot tell a
  // clip from its reversal, so every caption ties with its twin and direction accuracy is exactly 50.
  TempDir dir;
  const auto made = run_command(tool_path("bt_make_synthetic").string() + " --out " + dir.path().string() +
                                " --train 2 --test 4 --frames 8 --size 32");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::string out = (dir / "results.json").string();
  const auto r = run_command(tool_path("bt_eval_retrieval").string() + " -q -m " + tiny_clip() + " --vocab " +
                             clip_vocab() + " --vision-heads 4 --text-heads 2 -a " + (dir / "test.json").string() +
                             " -r " + (dir / "test_videos").string() + " --frames 8 --direction " +
                             (dir / "direction.json").string() + " -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("direction accuracy 50.0% (4 texts, 4 ties)"), std::string::npos) << r.output;
  const auto json = nlohmann::json::parse(std::ifstream(out));
  EXPECT_EQ(json["counts"]["texts"], 4);
  EXPECT_EQ(json["direction"]["accuracy"], 50.0);
  EXPECT_EQ(json["direction"]["pairs"], 2);
}

TEST(BtEvalRetrieval, EndToEndWithAllOutputs) {
  RetrievalFixture f;
  const std::string model = (f.dir / "m.safetensors").string();
  const std::string base = tool_path("bt_eval_retrieval").string() + " -a " + f.annotations + " -r " + f.root;
  // Import the official fixture first (bt_export), so the evaluation needs no head or vocabulary flags.
  ASSERT_EQ(run_command(tool_path("bt_export").string() + " -i " + tiny_official() + " --vocab " + clip_vocab() +
                        " --vision-heads 4 --text-heads 2 -o " + model)
                .exit_code,
            0);
  write_text((f.dir / "pairs.json").string(), R"({"pairs": [{"forward": "video0.mp4", "reversed": "video1.mp4",
      "forward_caption": "a", "reversed_caption": "b"}]})");
  const std::string out = (f.dir / "results.json").string(), html = (f.dir / "report.html").string();
  const std::string sim = (f.dir / "sim.safetensors").string();
  const auto r = run_command(base + " -m " + model + " --frames 4 -o " + out + " --html " + html +
                             " --save-similarity " + sim + " --direction " + (f.dir / "pairs.json").string() +
                             " --embeddings " + (f.dir / "cache.safetensors").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("MSR-VTT 1k-A"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("R@1"), std::string::npos);
  EXPECT_NE(r.output.find("direction accuracy"), std::string::npos);
  const auto json = nlohmann::json::parse(std::ifstream(out));
  EXPECT_EQ(json["dataset"], "msrvtt");
  EXPECT_EQ(json["counts"]["texts"], 5);
  EXPECT_EQ(json["model"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(json["config"]["num_frames"], 4);
  EXPECT_EQ(json["config"]["text_truncate"], "official:32");
  EXPECT_EQ(json["retrieval"]["dual_softmax"], false);
  EXPECT_TRUE(json.contains("direction"));
  EXPECT_EQ(io::read_safetensors(sim).at("similarity").sizes(), (std::vector<int64_t>{5, 4}));
  std::ifstream page(html);
  const std::string text((std::istreambuf_iterator<char>(page)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("class=\"query\""), std::string::npos);
  EXPECT_NE(text.find("data:image/jpeg;base64,"), std::string::npos);

  const auto again = run_command(base + " -m " + model + " --frames 4 --dsl --embeddings " +
                                 (f.dir / "cache.safetensors").string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("embeddings from cache"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("dsl=on"), std::string::npos) << again.output;

  const auto bad_format = run_command(base + " -m " + model + " --format msrvtt-xml");
  EXPECT_NE(bad_format.exit_code, 0);
  EXPECT_NE(bad_format.output.find("msrvtt-xml"), std::string::npos) << bad_format.output;
  const auto missing = run_command(base + " -m /nonexistent.safetensors");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_EQ(missing.output, "bt_eval_retrieval: model file '/nonexistent.safetensors' does not exist\n");
}

}  // namespace
}  // namespace btadapter::eval
