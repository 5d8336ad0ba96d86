// The architecture description (docs/FORMATS.md, "Architecture"): JSON round
// trip, every refusal with its message, and the summary table.
#include <gtest/gtest.h>

#include <cstring>

#include "convnet/convnet.hpp"
#include "test_util.hpp"

using namespace convnet;
using convnet::test::same_bits;

namespace {
std::string error_of(const std::string& text) {
  try {
    Architecture::from_json(text, "net.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
// A document with the given layers (a JSON list's inside) on the notebook's input.
std::string with_layers(const std::string& layers) {
  return R"({"input": [1, 28, 28], "layers": [)" + layers + "]}";
}
}  // namespace

TEST(Architecture, TheNotebooksDocumentIsTheNotebooksNetwork) {
  const Architecture a = Architecture::from_json(
      R"({"input": [1,28,28], "layers": [{"type": "conv", "filters": 30, "size": 5, "stride": 1, "pad": 0},
          {"type": "relu"}, {"type": "pool", "size": 2, "stride": 2}, {"type": "affine", "units": 100},
          {"type": "relu"}, {"type": "affine", "units": 10}], "weight_init_std": 0.01})",
      "notebook.json");
  EXPECT_EQ(a, Architecture::notebook());
  EXPECT_EQ(a, SimpleConvNet<float>().architecture());
  // Defaults: conv stride 1 and pad 0, pool pad 0, weight_init_std 0.01.
  EXPECT_EQ(Architecture::from_json(with_layers(R"({"type": "conv", "filters": 30, "size": 5}, {"type": "relu"},
      {"type": "pool", "size": 2, "stride": 2}, {"type": "affine", "units": 100}, {"type": "relu"},
      {"type": "affine", "units": 10})")),
            Architecture::notebook());
}

TEST(Architecture, RoundTripGivesTheSameNetworkBitForBit) {
  Architecture b;
  b.input = {3, 17, 15};
  b.layers = {LayerSpec::conv(7, 3, 1, 2), LayerSpec::relu(),         LayerSpec::pool(2, 2),
              LayerSpec::conv(5, 3, 2, 1), LayerSpec::relu(),         LayerSpec::pool(3, 1, 1),
              LayerSpec::affine(11),       LayerSpec::relu(),         LayerSpec::affine(4)};
  b.weight_init_std = 1.0 / 3.0;  // needs all 17 digits
  for (const Architecture& a : {Architecture::notebook(), b}) {
    const std::string text = a.to_json();
    const Architecture back = Architecture::from_json(text, "round.json");
    EXPECT_EQ(back, a) << text;
    EXPECT_EQ(back.to_json(), text);
    Sequential<float> n1(a, 17), n2(back, 17);
    ASSERT_EQ(n1.params().size(), n2.params().size());
    for (std::size_t i = 0; i < n1.params().size(); ++i)
      EXPECT_TRUE(same_bits(*n1.params().item(i).second, *n2.params().item(i).second)) << n1.params().item(i).first;
    RandomState rng(3);
    auto x = test::random_tensor<float>({5, a.input[0], a.input[1], a.input[2]}, rng);
    const std::vector<std::int32_t> t{0, 1, 2, 3, 0};
    const auto& g1 = n1.gradient(x, t);
    const auto& g2 = n2.gradient(x, t);
    EXPECT_EQ(n1.last_loss(), n2.last_loss());
    for (std::size_t i = 0; i < g1.size(); ++i)
      EXPECT_TRUE(same_bits(*g1.item(i).second, *g2.item(i).second)) << g1.item(i).first;
    EXPECT_EQ(n1.architecture(), a);
  }
  // The written form: one layer a line, every field explicit.
  EXPECT_EQ(Architecture::notebook().to_json(),
            "{\n"
            "  \"input\": [1, 28, 28],\n"
            "  \"layers\": [\n"
            "    {\"type\": \"conv\", \"filters\": 30, \"size\": 5, \"stride\": 1, \"pad\": 0},\n"
            "    {\"type\": \"relu\"},\n"
            "    {\"type\": \"pool\", \"size\": 2, \"stride\": 2, \"pad\": 0},\n"
            "    {\"type\": \"affine\", \"units\": 100},\n"
            "    {\"type\": \"relu\"},\n"
            "    {\"type\": \"affine\", \"units\": 10}\n"
            "  ],\n"
            "  \"weight_init_std\": 0.01,\n"
            "  \"loss_mode\": \"eval\"\n"
            "}\n");
}

TEST(Architecture, BadDocumentsNameTheLayerAndTheProblem) {
  const std::string conv = R"({"type": "conv", "filters": 30, "size": 5})";
  const std::string tail = R"({"type": "relu"}, {"type": "pool", "size": 2, "stride": 2}, {"type": "affine", "units": 10})";
  struct Case {
    std::string doc, message;
  };
  const std::vector<Case> cases{
      // not JSON, not the document
      {"{\"input\": [1, 28, 28],", "net.json: not valid JSON: parse error at line 1, column 23: syntax error while parsing object key - unexpected "
       "end of input; expected string literal"},
      {"[1, 2]", "net.json: expected a JSON object {\"input\": [C, H, W], \"layers\": [...]}, got an array ([1,2])"},
      {R"({"layers": [{"type": "affine", "units": 3}]})", "net.json: missing field \"input\" ([C, H, W] of one image)"},
      {R"({"input": [1, 28], "layers": []})", "net.json: \"input\" must be [C, H, W], got an array ([1,28])"},
      {R"({"input": [1, 0, 28], "layers": []})",
       "net.json: \"input\" must be [C, H, W] of integers between 1 and 16777216, got [1,0,28]"},
      {R"({"input": [1, 28, 28]})", "net.json: missing field \"layers\" (a list of layers)"},
      {R"({"input": [1, 28, 28], "layers": {}})", "net.json: \"layers\" must be a list, got an object ({})"},
      {with_layers(""), "net.json: \"layers\" is empty; expected at least one layer"},
      {R"({"input": [1, 28, 28], "layers": [{"type": "affine", "units": 3}], "seed": 1})",
       "net.json: unknown field \"seed\" (expected \"input\", \"layers\", \"weight_init_std\", \"loss_mode\")"},
      {R"({"input": [1, 28, 28], "layers": [{"type": "affine", "units": 3}], "weight_init_std": "0.01"})",
       "net.json: \"weight_init_std\" must be a number, \"he\" (or \"relu\") or \"xavier\" (or \"sigmoid\"), got a "
       "string (\"0.01\")"},
      {R"({"input": [1, 28, 28], "layers": [{"type": "affine", "units": 3}], "weight_init_std": -1})",
       "net.json: \"weight_init_std\" must be a finite number >= 0 (or \"he\", \"xavier\"), got -1"},
      // unknown type, missing type
      {with_layers(conv + R"(, {"type": "dense", "units": 3})"),
       "net.json: layers[1]: unknown type \"dense\" (expected \"conv\", \"relu\", \"pool\", \"affine\", \"sigmoid\", \"dropout\" or \"batchnorm\")"},
      {with_layers(R"({"units": 3})"), "net.json: layers[0]: missing field \"type\""},
      {with_layers(R"({"type": 3})"), "net.json: layers[0]: \"type\" must be a string, got a number (3)"},
      {with_layers(R"("relu")"), "net.json: layers[0]: expected an object {\"type\": ...}, got a string (\"relu\")"},
      // missing field, unknown field
      {with_layers(R"({"type": "conv", "size": 5})"), "net.json: layers[0] (conv): missing field \"filters\""},
      {with_layers(conv + R"(, {"type": "relu"}, {"type": "pool", "size": 2})"),
       "net.json: layers[2] (pool): missing field \"stride\""},
      {with_layers(conv + R"(, {"type": "relu"}, {"type": "pool", "size": 2, "strid": 2})"),
       "net.json: layers[2] (pool): unknown field \"strid\" (expected \"type\", \"size\", \"stride\", \"pad\")"},
      {with_layers(R"({"type": "affine"})"), "net.json: layers[0] (affine): missing field \"units\""},
      // wrong field type, out of range
      {with_layers(R"({"type": "conv", "filters": "30", "size": 5})"),
       "net.json: layers[0] (conv): \"filters\" must be an integer, got a string (\"30\")"},
      {with_layers(R"({"type": "conv", "filters": 30, "size": 5.5})"),
       "net.json: layers[0] (conv): \"size\" must be an integer, got a number (5.5)"},
      {with_layers(R"({"type": "conv", "filters": 30, "size": 5, "pad": -1})"),
       "net.json: layers[0] (conv): \"pad\" must be >= 0, got -1"},
      {with_layers(R"({"type": "conv", "filters": 30, "size": 5, "stride": 0})"),
       "net.json: layers[0] (conv): \"stride\" must be >= 1, got 0"},
      {with_layers(R"({"type": "affine", "units": 0})"), "net.json: layers[0] (affine): \"units\" must be >= 1, got 0"},
      {with_layers(R"({"type": "affine", "units": true})"),
       "net.json: layers[0] (affine): \"units\" must be an integer, got a boolean (true)"},
      {with_layers(R"({"type": "affine", "units": 99999999999})"),
       "net.json: layers[0] (affine): \"units\" must be <= 16777216, got 99999999999"},
      // shapes that do not chain
      {with_layers(R"({"type": "affine", "units": 100}, )" + conv + R"(, {"type": "affine", "units": 10})"),
       "net.json: layers[1] (conv): expects an image input (C, H, W), but layers[0] (affine) outputs (100,)"},
      {with_layers(R"({"type": "affine", "units": 100}, {"type": "relu"}, {"type": "pool", "size": 2, "stride": 2})"),
       "net.json: layers[2] (pool): expects an image input (C, H, W), but layers[1] (relu) outputs (100,)"},
      // an empty output
      {with_layers(R"({"type": "conv", "filters": 30, "size": 29}, )" + tail),
       "net.json: layers[0] (conv): filter 29x29 is larger than its padded input 28x28 + 2*0; its output would be "
       "empty"},
      {with_layers(R"({"type": "conv", "filters": 30, "size": 28}, {"type": "relu"},
                      {"type": "pool", "size": 2, "stride": 2}, {"type": "affine", "units": 10})"),
       "net.json: layers[2] (pool): a 2x2 window does not fit the 1x1 output of layers[1] (relu) (pad 0); its "
       "output would be empty"},
      // no class scores at the end
      {with_layers(conv + R"(, {"type": "relu"}, {"type": "pool", "size": 2, "stride": 2})"),
       "net.json: layers[2] (pool): the network ends in (30, 12, 12), not a vector of class scores; end with an "
       "affine layer (softmax-with-loss follows it)"},
  };
  for (const Case& c : cases) EXPECT_EQ(error_of(c.doc), c.message) << c.doc;
}

TEST(Architecture, ValidateRefusesArchitecturesBuiltInCode) {
  Architecture a = Architecture::notebook();
  a.layers[0].filters = 0;
  try {
    Sequential<float> net(a);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "architecture: layers[0] (conv): \"filters\" must be between 1 and 16777216, got 0");
  }
  a = Architecture::notebook();
  a.layers.clear();
  EXPECT_THROW(Sequential<double>{a}, Error);
}

TEST(Architecture, SummaryOfTheNotebooksNetwork) {
  const std::vector<LayerInfo> rows = describe(Architecture::notebook());
  ASSERT_EQ(rows.size(), 6u);
  using S = std::vector<std::size_t>;
  const std::vector<std::pair<std::string, S>> shapes{{"Conv1", {30, 24, 24}}, {"Relu1", {30, 24, 24}},
                                                     {"Pool1", {30, 12, 12}}, {"Affine1", {100}},
                                                     {"Relu2", {100}},        {"Affine2", {10}}};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].name, shapes[i].first);
    EXPECT_EQ(rows[i].output, shapes[i].second) << rows[i].name;
  }
  // By hand: W1 30·1·5·5 + b1 30; W2 (30·12·12)·100 + b2 100; W3 100·10 + b3 10.
  EXPECT_EQ(rows[0].params, 30u * 1 * 5 * 5 + 30);
  EXPECT_EQ(rows[3].params, 4320u * 100 + 100);
  EXPECT_EQ(rows[5].params, 100u * 10 + 10);
  for (std::size_t i : {1, 2, 4}) EXPECT_EQ(rows[i].params, 0u);
  // FLOPs per image: 2 per multiply-add (the bias rounds 2K-1 up to 2K).
  EXPECT_EQ(rows[0].flops, 30u * 24 * 24 * 2 * 25);
  EXPECT_EQ(rows[1].flops, 30u * 24 * 24);
  EXPECT_EQ(rows[2].flops, 30u * 12 * 12 * 3);
  EXPECT_EQ(rows[3].flops, 2u * 4320 * 100);
  // The Sequential's parameters agree with the table.
  Sequential<double> net(Architecture::notebook());
  std::size_t total = 0;
  for (const auto& [name, p] : net.params()) total += p->size();
  EXPECT_EQ(total, 780u + 432100 + 1010);

  const std::string s = summary(Architecture::notebook());
  EXPECT_EQ(s,
            "Layer (type)      Output shape  Param #    FLOPs\n"
            "------------------------------------------------\n"
            "Input             (1, 28, 28)         0        0\n"
            "Conv1 (conv)      (30, 24, 24)      780  864,000\n"
            "Relu1 (relu)      (30, 24, 24)        0   17,280\n"
            "Pool1 (pool)      (30, 12, 12)        0   12,960\n"
            "Affine1 (affine)  (100,)        432,100  864,000\n"
            "Relu2 (relu)      (100,)              0      100\n"
            "Affine2 (affine)  (10,)           1,010    2,000\n"
            "------------------------------------------------\n"
            "Total params: 433,890\n"
            "FLOPs per image (forward): 1,760,340\n"
            "Last layer: softmax with cross-entropy loss\n")
      << s;
}
