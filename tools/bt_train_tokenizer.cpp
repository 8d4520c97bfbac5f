// bt_train_tokenizer: trains a SentencePiece vocabulary on the captions of a caption or annotation file.
#include "btadapter/data/annotations.h"
#include "btadapter/io/atomic_file.h"
#include "btadapter/text/sentencepiece_tokenizer.h"
#include "run_main.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"Train a SentencePiece vocabulary on captions (ids: unk 0, bos 1, eos 2)"};
  std::string captions, annotations, format, out;
  int64_t vocab_size = 1000;  // the tool's own choice: SentencePieceTrainOptions takes it as an argument
  std::string model_type = btadapter::SentencePieceTrainOptions("", "", vocab_size).model_type();
  auto* from_captions = app.add_option("--captions", captions, "UTF-8 text, one caption per line");
  auto* from_annotations = app.add_option("--annotations", annotations, "annotation file whose captions to use");
  app.add_option("--format", format, "format of --annotations (e.g. webvid, msrvtt-json, jsonl)");
  app.add_option("--out", out, "model file to write (e.g. spm.model)")->required();
  app.add_option("--vocab-size", vocab_size, "upper bound on the pieces")->capture_default_str();
  app.add_option("--model-type", model_type, "unigram or bpe")->capture_default_str();
  from_captions->excludes(from_annotations);
  CLI11_PARSE(app, argc, argv);
  return btadapter::tools::run_main("bt_train_tokenizer", [&] {
    TORCH_CHECK(!captions.empty() || !annotations.empty(), "expected --captions or --annotations");
    if (captions.empty()) {
      TORCH_CHECK(!format.empty(), "--annotations ", annotations, ": expected --format too");
      // One caption per line, beside the model, so the vocabulary can be re-trained or inspected.
      captions = out + ".captions.txt";
      std::string lines;
      for (const auto& s : btadapter::data::read_annotations(annotations, format).samples) lines += s.caption + "\n";
      btadapter::io::write_file_atomically(captions, lines);
    }
    btadapter::train_sentencepiece(
        btadapter::SentencePieceTrainOptions(captions, out, vocab_size).model_type(model_type));
    std::cout << out << std::endl;
    return 0;
  });
}
