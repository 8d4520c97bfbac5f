#include "sentencepiece_plugin.h"

#include <c10/util/Exception.h>

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace btadapter::text::plugin {
namespace {

namespace fs = std::filesystem;

// The folder holding libbtadapter.so (build tree or install lib folder), found from one of its own
// symbols.
fs::path library_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&sentencepiece_api), &info) == 0 || info.dli_fname == nullptr) return {};
  return fs::path(info.dli_fname).parent_path();
}

const SentencePieceApi* load_plugin() {
  const char* override_path = std::getenv(kSentencePiecePluginEnv);
  const bool from_env = override_path != nullptr && *override_path != '\0';
  const std::string path = from_env ? std::string(override_path) : (library_folder() / kSentencePiecePluginFile).string();
  const std::string how_to_fix = from_env ? std::string(" (from $") + kSentencePiecePluginEnv + ")"
                                          : std::string("; build the btadapter_sentencepiece target (installed beside "
                                                        "libbtadapter.so) or set $") + kSentencePiecePluginEnv +
                                                " to its path";
  // RTLD_LOCAL keeps sentencepiece's protobuf symbols out of the global scope; RTLD_DEEPBIND makes the
  // plugin bind its own copy before LibTorch's libprotobuf.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (handle == nullptr) {
    const char* reason = dlerror();
    TORCH_CHECK(false, "SentencePiece support needs the plugin ", path, ", which could not be loaded: ",
                reason ? reason : "unknown error", how_to_fix);
  }
  using Entry = const SentencePieceApi* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, BTADAPTER_SENTENCEPIECE_API_SYMBOL));
  const SentencePieceApi* api = entry ? entry() : nullptr;
  if (api == nullptr || api->abi_version != kSentencePieceAbiVersion) {
    dlclose(handle);
    TORCH_CHECK(false, "SentencePiece plugin ", path, ": expected the entry point ",
                BTADAPTER_SENTENCEPIECE_API_SYMBOL, " with interface version ", kSentencePieceAbiVersion,
                ", got ", api ? "version " + std::to_string(api->abi_version) : std::string("none"),
                " (a plugin from another build?)");
  }
  return api;  // the plugin stays loaded for the life of the process
}

}  // namespace

const SentencePieceApi& sentencepiece_api() {
  static std::mutex mutex;
  static const SentencePieceApi* api = nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (api == nullptr) api = load_plugin();
  return *api;
}

}  // namespace btadapter::text::plugin
