#pragma once
// The boundary between libbtadapter and the SentencePiece plugin (libbtadapter_sentencepiece.so).
//
// Why a plugin: Debian's libsentencepiece embeds protobuf-lite and exports its symbols. Linked into a
// process beside LibTorch (which loads libprotobuf.so.32), protobuf's static initialisers bind to
// sentencepiece's copy and the process crashes at start-up. So libbtadapter never links sentencepiece:
// it dlopen()s the plugin with RTLD_LOCAL | RTLD_DEEPBIND, which keeps the plugin's protobuf symbols
// out of the global scope and makes the plugin resolve its own references to them first.
//
// The interface uses std types only (no torch, no sentencepiece headers) and never lets an exception
// cross it: every call reports failure through an error string. Both sides are built by the same
// compiler and libstdc++ (one build tree), so std::string and std::vector are layout-compatible.
// Bump kSentencePieceAbiVersion on any change to these declarations.

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace btadapter::text::plugin {

inline constexpr int kSentencePieceAbiVersion = 1;

/// A loaded SentencePiece model. Const methods are thread-safe (sentencepiece's processor is).
class SentencePieceModel {
 public:
  virtual ~SentencePieceModel() = default;
  /// Ids of valid UTF-8 `text`; false with `error` set on failure.
  virtual bool encode(const std::string& text, std::vector<int>& ids, std::string& error) const = 0;
  /// Text of `ids` (each in [0, piece_size())); false with `error` set on failure.
  virtual bool decode(const std::vector<int>& ids, std::string& text, std::string& error) const = 0;
  virtual int piece_size() const = 0;
  virtual int bos_id() const = 0;  ///< -1 when the model has none
  virtual int eos_id() const = 0;  ///< -1 when the model has none
};

/// The plugin's entry points.
struct SentencePieceApi {
  int abi_version;
  /// Loads a serialized ModelProto (the bytes of a .model file); nullptr with `error` set on failure.
  std::unique_ptr<SentencePieceModel> (*load)(const std::string& serialized, std::string& error);
  /// Trains on `sentences` with sentencepiece trainer flags (`{"vocab_size", "500"}`, ...) and returns
  /// the serialized ModelProto in `serialized`; false with `error` set on failure.
  bool (*train)(const std::vector<std::string>& sentences,
                const std::vector<std::pair<std::string, std::string>>& flags, std::string& serialized,
                std::string& error);
};

}  // namespace btadapter::text::plugin

/// The one symbol the plugin exports.
extern "C" const btadapter::text::plugin::SentencePieceApi* btadapter_sentencepiece_api();

/// Name of the exported symbol, for dlsym.
#define BTADAPTER_SENTENCEPIECE_API_SYMBOL "btadapter_sentencepiece_api"

namespace btadapter::text::plugin {

/// Environment variable that names the plugin file, overriding the default location.
inline constexpr const char* kSentencePiecePluginEnv = "BTADAPTER_SENTENCEPIECE_PLUGIN";
/// The plugin's file name; by default it is looked for in the folder of libbtadapter.so.
inline constexpr const char* kSentencePiecePluginFile = "libbtadapter_sentencepiece.so";

/// Library side: the plugin's entry points, loading it on first success (a failed attempt is retried on
/// the next call). Throws c10::Error saying which file was tried and how to fix it.
const SentencePieceApi& sentencepiece_api();

}  // namespace btadapter::text::plugin
