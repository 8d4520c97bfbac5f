#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "btadapter/eval/html_report.h"
#include "support/test_support.h"

using namespace btadapter::eval;
using btadapter::testing::expect_error;

namespace {

RetrievalReportInput toy_input() {
  RetrievalReportInput in;
  in.similarity = torch::tensor({
      2.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7,  // text 0: its video 0 first
      0.9, 0.7, 0.8, 0.1, 0.2, 0.3, 0.4, 0.5,  // text 1: its video 1 third
      0.9, 0.8, 0.1, 0.7, 0.6, 0.5, 0.4, 0.3,  // text 2: its video 2 last (outside the top 5)
      0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,  // text 3: all tied; shown 4th, pessimistic rank 8
  }).view({4, 8});
  in.text_to_video = torch::tensor({0, 1, 2, 3}, torch::kLong);
  in.texts = {"a <b>cat</b> & \"dog\"'s toy", "text one", "text two", "text three"};
  for (int v = 0; v < 8; ++v) in.video_names.push_back("video" + std::to_string(v) + ".mp4");
  std::vector<torch::Tensor> frames;
  for (int v = 0; v < 8; ++v) {
    auto f = torch::zeros({3, 24, 32, 3}, torch::kByte);
    f.select(3, v % 3).fill_(30 * v);  // a different colour per video
    f.select(0, 1).narrow(1, 0, 16).fill_(255);
    frames.push_back(f);
  }
  in.frames = frames_from_tensors(frames);
  return in;
}

std::vector<std::string> sections(const std::string& html) {
  std::vector<std::string> out;
  for (size_t at = html.find("<section class=\"query\""); at != std::string::npos;) {
    const size_t end = html.find("</section>", at);
    out.push_back(html.substr(at, end - at));
    at = html.find("<section class=\"query\"", end);
  }
  return out;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The data-video of the first figure with the given class (-1 when absent).
int video_of(const std::string& section, const std::string& css_class) {
  std::smatch m;
  std::regex re("<figure class=\"" + css_class + "\" data-rank=\"(\\d+)\" data-video=\"(\\d+)\"");
  return std::regex_search(section, m, re) ? std::stoi(m[2]) : -1;
}

int rank_of(const std::string& section, const std::string& css_class) {
  std::smatch m;
  std::regex re("<figure class=\"" + css_class + "\" data-rank=\"(\\d+)\"");
  return std::regex_search(section, m, re) ? std::stoi(m[1]) : -1;
}

}  // namespace

TEST(HtmlReport, QueriesThumbnailsAndGroundTruth) {
  btadapter::testing::TempDir dir;
  const auto path = (dir / "report.html").string();
  int calls = 0;
  auto in = toy_input();
  auto frames = in.frames;
  in.frames = [&](int64_t v) { ++calls; return frames(v); };
  write_html_report(path, in, HtmlReportOptions().title("MSR-VTT <test>"));
  std::ifstream file(path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string html = buffer.str();

  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<title>MSR-VTT &lt;test&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("a &lt;b&gt;cat&lt;/b&gt; &amp; &quot;dog&quot;&#39;s toy"), std::string::npos);
  EXPECT_EQ(html.find("<b>cat</b>"), std::string::npos) << "query text must be escaped";

  auto parts = sections(html);
  ASSERT_EQ(parts.size(), 4u);
  for (const auto& s : parts) {
    EXPECT_EQ(count(s, "<figure class=\"result"), 5);
    EXPECT_EQ(count(s, "<span class=\"gt-marker\">"), 1) << "exactly one ground-truth marker per query";
  }
  EXPECT_EQ(video_of(parts[0], "result gt"), 0);
  EXPECT_EQ(rank_of(parts[0], "result gt"), 1);
  EXPECT_EQ(video_of(parts[1], "result gt"), 1);
  EXPECT_EQ(rank_of(parts[1], "result gt"), 3);
  EXPECT_NE(parts[1].find("rank 3 of 8"), std::string::npos);
  // Outside the top 5: no marked result, the ground truth shown separately with its rank.
  EXPECT_EQ(video_of(parts[2], "result gt"), -1);
  EXPECT_EQ(video_of(parts[2], "gt-outside"), 2);
  EXPECT_EQ(rank_of(parts[2], "gt-outside"), 8);
  EXPECT_EQ(count(parts[2], "<img class=\"thumb\""), 6);
  // All tied: displayed by video index (4th), but the stated rank is the pessimistic 8.
  EXPECT_EQ(video_of(parts[3], "result gt"), 3);
  EXPECT_EQ(rank_of(parts[3], "result gt"), 4);
  EXPECT_NE(parts[3].find("rank 8 of 8"), std::string::npos);
  EXPECT_NE(parts[0].find("score 2.0000"), std::string::npos);

  // Thumbnails are embedded JPEGs (base64 of FF D8 FF is "/9j/"), each video encoded once.
  EXPECT_EQ(count(html, "src=\"data:image/jpeg;base64,/9j/"), count(html, "<img class=\"thumb\""));
  EXPECT_EQ(calls, 8);
}

TEST(HtmlReport, SampleIsSeededAndBounded) {
  HtmlReportOptions opts;
  opts.num_queries(5).seed(3);
  auto a = report_queries(100, opts);
  EXPECT_EQ(a, report_queries(100, opts));
  EXPECT_EQ(a.size(), 5u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_NE(a, report_queries(100, opts.seed(4)));
  EXPECT_EQ(report_queries(3, opts).size(), 3u);
  EXPECT_EQ(report_queries(10, HtmlReportOptions().queries({7, 2})), (std::vector<int64_t>{7, 2}));

  auto in = toy_input();
  auto html = render_html_report(in, HtmlReportOptions().queries({2}).top_k(2));
  ASSERT_EQ(sections(html).size(), 1u);
  EXPECT_EQ(count(html, "<figure class=\"result"), 2);
}

TEST(HtmlReport, BadInputIsNamed) {
  auto in = toy_input();
  in.texts.pop_back();
  expect_error([&] { render_html_report(in); }, "expected 4 query texts (one per similarity row), got 3");
  auto bad_frames = toy_input();
  bad_frames.frames = [](int64_t) { return torch::zeros({2, 8, 8}, torch::kByte); };
  expect_error([&] { render_html_report(bad_frames); },
               "expected keyframes of video 'video0.mp4' as uint8 [K, H, W, 3]");
  expect_error([&] { report_queries(4, HtmlReportOptions().queries({4})); },
               "expected report query indices in [0, 4), got 4");
}
