#pragma once
// Engine-internal: the pickle machine's objects and its class, shared by pickle_machine.cpp
// (the opcodes) and pickle_freeze.cpp (the finished graph turned into PickleValues).
#include "engine/torch/pickle_machine.h"
#include "engine/torch/pickle_opcodes.h"

#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace segxai::pickle::detail {

enum class NodeType { Value, List, Tuple, Dict, Object };

// A mutable object of the VM.  Nodes live in the machine's arena and point at
// each other, so that memo references and later mutation (APPEND, SETITEM or
// BUILD on an object fetched from the memo) behave as in Python.  The arena
// frees everything at once, even when a hostile pickle made cycles.
struct Node {
    NodeType type = NodeType::Value;
    bool shared = false;                              // reachable more than once (BINGET, DUP)
    PickleValue value;                                // Value: an immutable leaf
    std::vector<Node*> items;                         // List, Tuple; Object: append
    std::vector<std::pair<Node*, Node*>> entries;     // Dict; Object: obj[k] = v
    std::unordered_map<std::string, size_t> keyIndex; // str/int key -> entry
    std::string global;                               // Object: "module.name"
    bool called = false;                              // Object: global(*args) rather than global itself
    std::vector<Node*> args;                          // Object
    Node* state = nullptr;                            // Object: argument of BUILD
};

class Machine {
public:
    Machine(const uint8_t* data, size_t size, PickleResolver& resolver, const PickleLimits& limits)
        : m_in(data, size), m_resolver(resolver), m_limits(limits) {}

    PickleValue run();

private:
    bool stepData(uint8_t op);
    bool stepContainer(uint8_t op);
    bool stepStack(uint8_t op);
    bool stepObject(uint8_t op);
    [[noreturn]] void unsupported(uint8_t op) const;
    [[noreturn]] void corrupt(const std::string& what) const;

    size_t lengthArgument(uint8_t op);
    void pushLong(size_t nbytes);
    double readBinFloat();

    Node* make(NodeType type);
    void push(Node* node) { m_stack.push_back(node); }
    void pushValue(PickleValue value);
    Node* pop();
    Node* top();
    std::vector<Node*> popMark();
    std::vector<Node*> popN(size_t n);
    Node* makeSequence(NodeType type, std::vector<Node*> items);
    Node* makeSet(const char* global, std::vector<Node*> items);
    void appendItems(Node* target, const std::vector<Node*>& items);
    void setItems(Node* target, const std::vector<Node*>& keysAndValues);
    void addToSet(Node* target, const std::vector<Node*>& items);
    void pushGlobal(const std::string& module, const std::string& name);
    Node* makeCall(Node* callable, Node* args, Node* kwargs);
    void build(Node* target, Node* state);
    Node* memoGet(uint64_t index);

    PickleValue freeze(const Node* node, size_t depth);
    std::vector<PickleValue> freezeAll(const std::vector<Node*>& nodes, size_t depth);
    std::vector<PickleValue::Entry> freezeEntries(const std::vector<std::pair<Node*, Node*>>& entries, size_t depth);
    PickleValue construct(const Node* node, size_t depth);
    void charge(size_t bytes);

    struct Constructed {
        PickleValue value;
        size_t cost;
    };

    PickleInput m_in;
    PickleResolver& m_resolver;
    PickleLimits m_limits;
    size_t m_opStart = 0;
    std::deque<Node> m_arena; // deque: node addresses stay valid
    std::vector<Node*> m_stack;
    std::vector<size_t> m_marks;
    std::unordered_map<uint64_t, Node*> m_memo;
    std::unordered_map<const Node*, Constructed> m_constructed;
    size_t m_outputBytes = 0;
};

} // namespace segxai::pickle::detail
