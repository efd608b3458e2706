// Tests of the torch.save checkpoint reader against the files and
// expectations written by make_test_checkpoints.py.
#include "engine/torch/pickle_machine.h"
#include "engine/torch/torch_checkpoint.h"
#include "engine/torch/torch_rebuild.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>

// Debian's LibTorch includes glog, whose CHECK macro would replace Catch2's.
#undef CHECK
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

using segxai::CheckpointError;
using segxai::Opaque;
using segxai::PickleValue;
using Kind = PickleValue::Kind;
using nlohmann::json;

namespace {

const std::string kData = SEGXAI_TEST_DATA "/checkpoints";

std::string dataFile(const std::string& name) {
    return kData + "/" + name;
}

const json& expected() {
    static const json e = [] {
        std::ifstream in(dataFile("expected.json"));
        if (!in) FAIL("testdata missing: run make_test_checkpoints.py " + kData);
        return json::parse(in);
    }();
    return e;
}

// Follows a path of dict keys (str or int) and list indices.
const PickleValue& follow(const PickleValue& root, const json& path) {
    const PickleValue* v = &root;
    for (const auto& step : path) {
        const PickleValue* next = nullptr;
        if (v->is(Kind::Dict)) {
            for (const auto& [k, val] : v->entries()) {
                const bool match = step.is_string() ? k.is(Kind::String) && k.asString() == step.get<std::string>()
                                                    : k.is(Kind::Int) && k.asInt() == step.get<int64_t>();
                if (match) next = &val;
            }
        } else if (v->is(Kind::List) || v->is(Kind::Tuple)) {
            const auto i = step.get<size_t>();
            if (i < v->items().size()) next = &v->items()[i];
        }
        if (!next) FAIL("path " << path.dump() << " not found at " << step.dump());
        v = next;
    }
    return *v;
}

std::string errorOf(const std::string& path) {
    try {
        segxai::readTorchCheckpoint(path);
    } catch (const CheckpointError& e) {
        return e.what();
    }
    return "(no error)";
}

void checkTensor(const PickleValue& root, const json& e) {
    INFO("tensor " << e["path"].dump());
    const at::Tensor& t = follow(root, e["path"]).asTensor();
    CHECK(t.sizes().vec() == e["shape"].get<std::vector<int64_t>>());
    CHECK(t.strides().vec() == e["stride"].get<std::vector<int64_t>>());
    CHECK(t.storage_offset() == e["offset"].get<int64_t>());
    CHECK(std::string(c10::toString(t.scalar_type())) == e["dtype"].get<std::string>());
    CHECK(t.device().is_cpu());
    CHECK_FALSE(t.requires_grad());
    const at::Tensor flat = t.reshape({-1}).to(at::kDouble);
    CHECK(flat.sum().item<double>() == Approx(e["sum"].get<double>()).epsilon(1e-9).margin(1e-9));
    for (const auto& element : e["elements"]) {
        CHECK(flat[element[0].get<int64_t>()].item<double>() == Approx(element[1].get<double>()).epsilon(1e-12));
    }
}

void checkNumber(const PickleValue& root, const json& e) {
    INFO("number " << e["path"].dump());
    const PickleValue& v = follow(root, e["path"]);
    REQUIRE(v.is(Kind::Opaque));
    CHECK(v.asOpaque().global == e["global"].get<std::string>());
    REQUIRE(v.asNumber().has_value());
    CHECK(*v.asNumber() == e["value"].get<double>());
}

void checkShared(const PickleValue& root, const json& group) {
    INFO("shared storage " << group.dump());
    const auto* impl = follow(root, group[0]).asTensor().storage().unsafeGetStorageImpl();
    for (const auto& path : group) {
        CHECK(follow(root, path).asTensor().storage().unsafeGetStorageImpl() == impl);
    }
}

} // namespace

TEST_CASE("valid checkpoints are read as saved", "[checkpoint]") {
    for (const auto& [name, e] : expected()["valid"].items()) {
        DYNAMIC_SECTION(name) {
            const PickleValue root = segxai::readTorchCheckpoint(dataFile(name));
            for (const auto& t : e["tensors"])
                checkTensor(root, t);
            for (const auto& n : e["numbers"])
                checkNumber(root, n);
            for (const auto& g : e["shared"])
                checkShared(root, g);
            std::vector<std::string> names;
            for (const auto& [n, t] : segxai::stateDict(root, e["state_dict_key"]))
                names.push_back(n);
            CHECK(names == e["state_dict_names"].get<std::vector<std::string>>());
            if (!e["json"].is_null()) {
                const json actual = segxai::toJson(root);
                INFO("JSON difference: " << json::diff(actual, e["json"]).dump());
                CHECK(actual == e["json"]);
                CHECK_NOTHROW(actual.dump());
            }
        }
    }
}

TEST_CASE("broken files give actionable errors that name the file", "[checkpoint]") {
    for (const auto& [name, substrings] : expected()["errors"].items()) {
        DYNAMIC_SECTION(name) {
            const std::string path = dataFile(name);
            const std::string message = errorOf(path);
            INFO("message: " << message);
            CHECK(message.rfind(path + ": ", 0) == 0);
            for (const auto& s : substrings) {
                CHECK(message.find(s.get<std::string>()) != std::string::npos);
            }
            CHECK(message.find('\n') == std::string::npos); // no backtrace
            CHECK(message.find("Exception raised from") == std::string::npos);
            CHECK(message.find("Could this error message be improved") == std::string::npos);
        }
    }
    CHECK(errorOf(dataFile("no_such_file.pth")).find("no such file") != std::string::npos);
    CHECK(errorOf(kData).find("is a directory") != std::string::npos);
}

TEST_CASE("nnU-Net checkpoints keep devices, numpy scalars and shared storages", "[checkpoint]") {
    const PickleValue root = segxai::readTorchCheckpoint(dataFile("nnunet_like.pth"));

    const Opaque& device = segxai::find(*segxai::find(root, "init_args"), "device")->asOpaque();
    CHECK(device.global == "torch.device");
    CHECK(device.called);
    REQUIRE(device.args.size() == 2);
    CHECK(device.args[0].asString() == "cuda");
    CHECK(device.args[1].asInt() == 0);

    CHECK(segxai::find(root, "current_epoch")->asInt() == 7);
    CHECK(segxai::find(root, "trainer_name")->asString() == "nnUNetTrainer");
    CHECK(segxai::find(root, "grad_scaler_state")->isNone());
    const PickleValue& axes = *segxai::find(root, "inference_allowed_mirroring_axes");
    CHECK(axes.is(Kind::Tuple));
    CHECK(axes.items().size() == 3);
    CHECK(*segxai::find(root, "_best_ema")->asNumber() == 0.873);

    const PickleValue& array = *segxai::find(*segxai::find(root, "logging"), "an_array");
    CHECK(array.asOpaque().global == "numpy.core.multiarray._reconstruct");
    CHECK_FALSE(array.asNumber().has_value());
    CHECK(array.asOpaque().state.is(Kind::Tuple)); // kept, not interpreted

    // Views of one storage share memory, as in PyTorch.
    const auto weights = segxai::stateDict(root, "network_weights");
    std::map<std::string, at::Tensor> byName(weights.begin(), weights.end());
    byName["extra.view_offset"][0][0].fill_(100.0); // element 2 of the base
    CHECK(byName["extra.view_transposed"][2][0].item<float>() == 100.0f);
    CHECK(byName["extra.bool"].sum().item<int64_t>() == 3);

    CHECK(segxai::find(root, "no_such_key") == nullptr);
    CHECK(segxai::find(*segxai::find(root, "trainer_name"), "x") == nullptr);
}

TEST_CASE("a state dict that is not one is explained", "[checkpoint]") {
    const PickleValue root = segxai::readTorchCheckpoint(dataFile("nnunet_like.pth"));
    const auto message = [&](const std::string& key) {
        try {
            segxai::stateDict(root, key);
        } catch (const CheckpointError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK_THAT(message("model_state"), Catch::Contains("no entry 'model_state'") && Catch::Contains("network_weights"));
    CHECK_THAT(message("trainer_name"), Catch::Contains("entry 'trainer_name' is a str, not a dict of tensors"));
    CHECK_THAT(message("logging"), Catch::Contains("'mean_fg_dice' is a list, not a tensor"));
    CHECK_THAT(message("optimizer_state"), Catch::Contains("'state' is a dict, not a tensor"));
    CHECK_THROWS_WITH(segxai::stateDict(PickleValue::integer(3), "w"), Catch::Contains("the checkpoint is a int"));
    CHECK_THROWS_AS(PickleValue::string("x").asInt(), CheckpointError);
}

// ---- robustness: mutated files must fail cleanly, never crash -------------

namespace {

struct Records {
    std::string pickle;
    std::map<std::string, std::string> others; // "data/0" -> bytes
};

Records extractRecords(const std::string& path) {
    caffe2::serialize::PyTorchStreamReader reader(path);
    Records out;
    for (const auto& name : reader.getAllRecords()) { // "data.pkl", "data/0"
        auto [ptr, size] = reader.getRecord(name);
        std::string bytes(static_cast<const char*>(ptr.get()), size);
        if (name == "data.pkl")
            out.pickle = std::move(bytes);
        else
            out.others[name] = std::move(bytes);
    }
    return out;
}

segxai::torchload::Record copyRecord(const std::string& bytes) {
    void* p = std::malloc(std::max<size_t>(bytes.size(), 1));
    std::memcpy(p, bytes.data(), bytes.size());
    return {at::DataPtr(p, p, &std::free, at::kCPU), bytes.size()};
}

// true: parsed, false: CheckpointError.  Anything else fails the test.
bool unpickleSurvives(const Records& records, const std::string& pickle) {
    segxai::torchload::TorchResolver resolver(
        [&](const std::string& name) -> std::optional<segxai::torchload::Record> {
            const auto it = records.others.find(name);
            if (it == records.others.end()) return std::nullopt;
            return copyRecord(it->second);
        },
        "archive");
    try {
        const PickleValue v =
            segxai::pickle::unpickle(reinterpret_cast<const uint8_t*>(pickle.data()), pickle.size(), resolver);
        segxai::toJson(v).dump();
        return true;
    } catch (const CheckpointError&) {
        return false;
    }
}

bool fileSurvives(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
    try {
        segxai::readTorchCheckpoint(path);
        return true;
    } catch (const CheckpointError&) {
        return false;
    }
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

TEST_CASE("mutated pickles fail cleanly", "[checkpoint]") {
    for (const char* name : {"nnunet_like.pth", "nnunet_like_p4.pth", "crafted_edges.pth"}) {
        DYNAMIC_SECTION(name) {
            const Records records = extractRecords(dataFile(name));
            const std::string& good = records.pickle;
            REQUIRE(unpickleSurvives(records, good));
            size_t parsed = 0;
            for (size_t n = 0; n < good.size(); ++n) {
                parsed += unpickleSurvives(records, good.substr(0, n));
            }
            CHECK(parsed == 0); // a truncated pickle never has its STOP
            std::mt19937 rng(42);
            for (size_t i = 0; i < good.size(); ++i) {
                std::string bad = good;
                bad[i] = static_cast<char>(bad[i] ^ (1 + rng() % 255));
                unpickleSurvives(records, bad);
            }
            for (int round = 0; round < 2000; ++round) {
                std::string bad = good;
                for (int k = 0; k < 4; ++k)
                    bad[rng() % bad.size()] = static_cast<char>(rng());
                unpickleSurvives(records, bad);
            }
        }
    }
}

TEST_CASE("random pickles fail cleanly", "[checkpoint]") {
    const Records records = extractRecords(dataFile("crafted_edges.pth"));
    std::mt19937 rng(7);
    for (int round = 0; round < 5000; ++round) {
        std::string bytes = "\x80\x02";
        const size_t n = rng() % 64;
        for (size_t i = 0; i < n; ++i)
            bytes.push_back(static_cast<char>(rng()));
        unpickleSurvives(records, bytes);
    }
}

TEST_CASE("truncated and corrupted zip files fail cleanly", "[checkpoint]") {
    const std::string good = readFile(dataFile("plain_state_dict.pth"));
    const std::string tmp = (std::filesystem::temp_directory_path() / "segxai_fuzz_checkpoint.pth").string();
    REQUIRE(fileSurvives(tmp, good));
    for (size_t n = 0; n < good.size(); n += 7) {
        CHECK_FALSE(fileSurvives(tmp, good.substr(0, n)));
    }
    std::mt19937 rng(3);
    for (size_t i = 0; i < good.size(); i += 3) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ (1 + rng() % 255));
        fileSurvives(tmp, bad);
    }
    std::filesystem::remove(tmp);
}

// ---- the pickle machine on hand-written opcodes ---------------------------

namespace {

class StubResolver : public segxai::pickle::PickleResolver {
public:
    PickleValue persistentLoad(const PickleValue&) override { throw CheckpointError("no persistent ids here"); }
    PickleValue construct(Opaque object) override { return PickleValue::opaque(std::move(object)); }
};

// Runs PROTO 2 + `ops` + STOP.
PickleValue run(const std::string& ops) {
    const std::string bytes = "\x80\x02" + ops + ".";
    StubResolver resolver;
    return segxai::pickle::unpickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), resolver);
}

std::string le32(uint32_t n) {
    return std::string(reinterpret_cast<char*>(&n), 4);
}
std::string le64(uint64_t n) {
    return std::string(reinterpret_cast<char*>(&n), 8);
}
// BINUNICODE: 'X', the length, the bytes.
std::string str(const std::string& s) {
    std::string op(1, 'X');
    op += le32(uint32_t(s.size()));
    op += s;
    return op;
}

} // namespace

TEST_CASE("the pickle machine reads every opcode torch.save writes", "[checkpoint]") {
    SECTION("strings and bytes") {
        CHECK(run("T" + le32(3) + "abc").asString() == "abc");         // BINSTRING
        CHECK(run(std::string("U\x02", 2) + "hi").asString() == "hi"); // SHORT_BINSTRING
        CHECK(run("\x8d" + le64(2) + "ok").asString() == "ok");        // BINUNICODE8
        CHECK(run("X" + le32(2) + "\xff\xfe").asString() == "\xEF\xBF\xBD\xEF\xBF\xBD");
        CHECK(run("B" + le32(2) + std::string("\0\xff", 2)).asBytes().size() == 2);
        CHECK(run("\x8e" + le64(1) + "z").asBytes() == "z"); // BINBYTES8
    }
    SECTION("numbers") {
        CHECK(run("\x8b" + le32(2) + "\xff\x7f").asInt() == 32767); // LONG4
        CHECK(run(std::string("\x8a\x01\xff", 3)).asInt() == -1);   // LONG1
        CHECK(run(std::string("\x8a\x00", 2)).asInt() == 0);
        const PickleValue big = run("\x8b" + le32(9) + std::string(8, '\0') + "\x01");
        CHECK(big.asOpaque().global == "builtins.int");
        CHECK(*big.asNumber() == 18446744073709551616.0);
        CHECK(run(std::string("G?\xf8\0\0\0\0\0\0", 9)).asDouble() == 1.5); // BINFLOAT
        CHECK(run("J" + le32(0xFFFFFFFE)).asInt() == -2);                   // BININT
    }
    SECTION("containers, marks and the memo") {
        CHECK(run("(K\x01K\x02l").items().size() == 2); // LIST
        // DICT keeps one entry per key; True == 1 as in Python.
        const PickleValue d = run("(" + str("a") + "K\x01" + str("a") + "K\x02" + "K\x01K\x03\x88K\x04" + "d");
        REQUIRE(d.entries().size() == 2);
        CHECK(d.entries()[0].second.asInt() == 2);
        CHECK(d.entries()[1].first.asInt() == 1);
        CHECK(d.entries()[1].second.asInt() == 4);
        const PickleValue dup = run("K\x05"
                                    "2(K\x01K\x02"
                                    "1\x86"); // DUP, POP_MARK
        CHECK(dup.items()[0].asInt() == 5);
        CHECK(dup.items()[1].asInt() == 5);
        CHECK(run("K\x01K\x02"
                  "0")
                  .asInt() == 1); // POP
        CHECK(run("K\x07r" + le32(16) + "j" + le32(16) + "\x86").items()[1].asInt() == 7);
    }
    SECTION("objects") {
        const PickleValue g = run("ccopy_reg\n_reconstructor\n");
        CHECK(g.asOpaque().global == "copyreg._reconstructor");
        CHECK_FALSE(g.asOpaque().called);
        CHECK(run("c__main__\nFoo\n)\x81").asOpaque().called); // NEWOBJ
        const PickleValue ex = run("c__main__\nFoo\nK\x01\x85}" + str("k") + "K\x02s\x92");
        CHECK(ex.asOpaque().args.size() == 2); // NEWOBJ_EX kwargs
        const PickleValue built = run("c__main__\nFoo\n)R}" + str("x") + "K\x01sb");
        CHECK(built.asOpaque().state.entries().size() == 1); // BUILD
        const PickleValue listy = run("c__main__\nFoo\n)R(K\x01K\x02"
                                      "e");
        CHECK(listy.asOpaque().listItems.size() == 2); // APPENDS on object
        const PickleValue sg = run("\x8c\x01m\x94\x8c\x01n\x94\x93\x94h\x02\x86");
        CHECK(sg.items()[0].asOpaque().global == "m.n"); // STACK_GLOBAL, MEMOIZE
        CHECK(sg.items()[1].asOpaque().global == "m.n"); // BINGET 2
        CHECK(run("\x95" + le64(1) + "N").isNone());     // FRAME
    }
    SECTION("malformed input") {
        CHECK_THROWS_WITH(run("K\x01)R"), Catch::Contains("not a class or function"));
        CHECK_THROWS_WITH(run("(K\x01"
                              "d"),
                          Catch::Contains("a dict key without value"));
        CHECK_THROWS_WITH(run("K\x01"
                              "b"),
                          Catch::Contains("stack underflow"));
        CHECK_THROWS_WITH(run("X" + le32(100) + "ab"), Catch::Contains("truncated"));
        CHECK_THROWS_WITH(run("e"), Catch::Contains("MARK expected"));
        CHECK_THROWS_WITH(run("S'a'\n"), Catch::Contains("unsupported pickle opcode STRING (0x53)"));
        CHECK_THROWS_WITH(run("K\x01Q"), Catch::Contains("no persistent ids here"));
    }
}
