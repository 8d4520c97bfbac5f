// Linking from outside the tree: `cmake --install` this build to a temporary prefix, configure the
// separate examples/ project against the INSTALLED package (find_package(btadapter) with btadapter_DIR),
// build it, and run its text-to-video search on generated videos; its ranking must equal the one the
// library computes in process.
#include "btadapter/btadapter.h"

#include "api_test_helpers.h"
#include "btadapter/api/model_export.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

namespace btadapter {
namespace {

using namespace btadapter::testing;
namespace fs = std::filesystem;

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

TEST(ApiInstall, ExampleBuildsAgainstTheInstalledPackageAndRuns) {
  TempDir dir;
  const fs::path build_dir = tool_path("bt_export").parent_path();
  const fs::path prefix = dir / "prefix";
  const auto install = run_command("cmake --install " + quote(build_dir) + " --prefix " + quote(prefix));
  ASSERT_EQ(install.exit_code, 0) << install.output;
  ASSERT_TRUE(fs::exists(prefix / "include" / "btadapter" / "btadapter.h"));
  fs::path config_dir;
  for (const char* lib : {"lib", "lib64", "lib/x86_64-linux-gnu"}) {
    if (fs::exists(prefix / lib / "cmake" / "btadapter" / "btadapterConfig.cmake")) config_dir = prefix / lib / "cmake" / "btadapter";
  }
  ASSERT_FALSE(config_dir.empty()) << "btadapterConfig.cmake not installed under " << prefix;

  const fs::path example_build = dir / "example-build";
  const auto configure = run_command("cmake -S " + quote(source_dir() / "examples") + " -B " + quote(example_build) +
                                     " -DCMAKE_BUILD_TYPE=Release -Dbtadapter_DIR=" + quote(config_dir));
  ASSERT_EQ(configure.exit_code, 0) << configure.output;
  const auto build = run_command("cmake --build " + quote(example_build));
  ASSERT_EQ(build.exit_code, 0) << build.output;

  // A model file with its vocabulary beside it, and a folder of videos.
  fs::create_directories(dir / "videos");
  for (int v = 0; v < 4; ++v) write_test_video((dir / "videos" / ("clip" + std::to_string(v) + ".mp4")).string(), v);
  api::export_model(*Model::load(tiny_official(), tiny_options()), (dir / "model.safetensors").string());
  const std::string query = "a bright bar sweeps to the right";
  const auto run = run_command(quote(example_build / "video_search") + " " + quote(dir / "model.safetensors") + " " +
                               quote(dir / "videos") + " '" + query + "' 3");
  ASSERT_EQ(run.exit_code, 0) << run.output;

  // The same search in process.
  std::vector<std::string> videos;
  for (int v = 0; v < 4; ++v) videos.push_back((dir / "videos" / ("clip" + std::to_string(v) + ".mp4")).string());
  const auto model = Model::load((dir / "model.safetensors").string());
  const auto hits = search(model->encode_texts({query}), model->encode_videos(videos), 3);
  std::istringstream lines(run.output);
  for (int64_t r = 0; r < 3; ++r) {
    int64_t rank = 0;
    double score = 0;
    std::string path;
    ASSERT_TRUE(lines >> rank >> score >> path) << run.output;
    EXPECT_EQ(rank, r + 1);
    EXPECT_EQ(path, videos[hits.ids[0][r].item<int64_t>()]) << run.output;
    EXPECT_NEAR(score, hits.scores[0][r].item<double>(), 1e-5);
  }
  const auto usage = run_command(quote(example_build / "video_search"));
  EXPECT_EQ(usage.exit_code, 2);
}

}  // namespace
}  // namespace btadapter
