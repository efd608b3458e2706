#include "engine/torch/pickle_machine.h"

#include "engine/torch/pickle_machine_detail.h"
#include "engine/torch/pickle_opcodes.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>

namespace segxai::pickle::detail {
namespace {

// Python dicts keep one entry per key.  For the keys that matter in practice
// (str, int, bool) we do the same; other keys are simply appended.
std::optional<std::string> dictKey(const Node* key) {
    if (key->type != NodeType::Value) return std::nullopt;
    const PickleValue& v = key->value;
    switch (v.kind()) {
    case PickleValue::Kind::String:
        return "s" + v.asString();
    case PickleValue::Kind::Int:
        return "i" + std::to_string(v.asInt());
    case PickleValue::Kind::Bool:
        return v.asBool() ? "i1" : "i0";
    default:
        return std::nullopt;
    }
}

std::string normalizeModule(const std::string& module) {
    // Protocol 2 pickles written by Python 3 use the Python 2 module names.
    if (module == "__builtin__") return "builtins";
    if (module == "copy_reg") return "copyreg";
    return module;
}

} // namespace

PickleValue Machine::run() {
    for (;;) {
        if (m_in.atEnd()) corrupt("the pickle ends without STOP (truncated)");
        m_opStart = m_in.position();
        const uint8_t op = m_in.byte();
        if (op == STOP) break;
        if (!stepData(op) && !stepContainer(op) && !stepStack(op) && !stepObject(op)) {
            unsupported(op);
        }
    }
    return freeze(pop(), 0);
}

void Machine::unsupported(uint8_t op) const {
    const std::string where = " at byte " + std::to_string(m_opStart);
    if (op == PERSID) {
        throw CheckpointError("unsupported pickle opcode PERSID (0x50)" + where +
                              ": text persistent ids are not written by "
                              "torch.save");
    }
    if (!opcodeName(op)) {
        corrupt("unknown pickle opcode " + describeOpcode(op));
    }
    throw CheckpointError("unsupported pickle opcode " + describeOpcode(op) + where +
                          " (torch.save writes protocol 2 or newer)");
}

void Machine::corrupt(const std::string& what) const {
    throw CheckpointError("corrupt pickle data: " + what + " at byte " + std::to_string(m_opStart));
}

// ---- constants -------------------------------------------------------------

bool Machine::stepData(uint8_t op) {
    switch (op) {
    case PROTO:
        if (const uint8_t v = m_in.byte(); v > 5) {
            corrupt("pickle protocol " + std::to_string(v) + " is not supported");
        }
        return true;
    case FRAME:
        m_in.little(8);
        return true; // frames only help buffering
    case NONE:
        pushValue(PickleValue());
        return true;
    case NEWTRUE:
        pushValue(PickleValue::boolean(true));
        return true;
    case NEWFALSE:
        pushValue(PickleValue::boolean(false));
        return true;
    case BININT:
        pushValue(PickleValue::integer(static_cast<int32_t>(m_in.little(4))));
        return true;
    case BININT1:
        pushValue(PickleValue::integer(m_in.byte()));
        return true;
    case BININT2:
        pushValue(PickleValue::integer(static_cast<int64_t>(m_in.little(2))));
        return true;
    case LONG1:
    case LONG4:
        pushLong(lengthArgument(op));
        return true;
    case BINFLOAT:
        pushValue(PickleValue::real(readBinFloat()));
        return true;
    case BINUNICODE:
    case SHORT_BINUNICODE:
    case BINUNICODE8:
    case BINSTRING:
    case SHORT_BINSTRING: // torch.load decodes these as UTF-8
        pushValue(PickleValue::string(sanitizeUtf8(m_in.bytes(lengthArgument(op)))));
        return true;
    case BINBYTES:
    case SHORT_BINBYTES:
    case BINBYTES8:
    case BYTEARRAY8: // a bytearray is kept as plain bytes
        pushValue(PickleValue::bytes(m_in.bytes(lengthArgument(op))));
        return true;
    default:
        return false;
    }
}

size_t Machine::lengthArgument(uint8_t op) {
    switch (op) {
    case SHORT_BINUNICODE:
    case SHORT_BINSTRING:
    case SHORT_BINBYTES:
    case LONG1:
        return m_in.byte();
    case BINUNICODE:
    case BINBYTES:
        return m_in.little(4);
    case BINSTRING:
    case LONG4: {
        const auto n = static_cast<int32_t>(m_in.little(4));
        if (n < 0) corrupt("negative length");
        return static_cast<size_t>(n);
    }
    default:
        return m_in.little(8); // the *8 opcodes
    }
}

// LONG1/LONG4: little-endian two's complement of any width.
void Machine::pushLong(size_t nbytes) {
    const uint8_t* p = m_in.take(nbytes);
    const bool negative = nbytes > 0 && (p[nbytes - 1] & 0x80);
    const uint8_t fill = negative ? 0xFF : 0x00;
    bool fits = true; // bytes past the 8th only repeat the sign
    for (size_t i = 8; i < nbytes; ++i)
        fits = fits && p[i] == fill;
    if (nbytes > 8) fits = fits && ((p[7] & 0x80) != 0) == negative;
    if (fits) {
        uint64_t v = negative ? ~uint64_t{0} : 0;
        for (size_t i = std::min<size_t>(nbytes, 8); i-- > 0;) {
            v = (v << 8) | p[i];
        }
        pushValue(PickleValue::integer(static_cast<int64_t>(v)));
        return;
    }
    // Wider than 64 bits: keep the raw bytes and an approximate value.
    double magnitude = 0;
    for (size_t i = nbytes; i-- > 0;) {
        magnitude = magnitude * 256 + (negative ? 255 - p[i] : p[i]);
    }
    Opaque big;
    big.global = "builtins.int";
    big.args.push_back(PickleValue::bytes(std::string(reinterpret_cast<const char*>(p), nbytes)));
    big.number = PickleValue::real(negative ? -(magnitude + 1) : magnitude);
    pushValue(PickleValue::opaque(std::move(big)));
}

double Machine::readBinFloat() {
    const uint8_t* p = m_in.take(8); // big-endian IEEE 754
    uint64_t bits = 0;
    for (size_t i = 0; i < 8; ++i)
        bits = (bits << 8) | p[i];
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}

// ---- the stack ---------------------------------------------------------------

Node* Machine::make(NodeType type) {
    if (m_arena.size() >= m_limits.maxObjects) {
        corrupt("more than " + std::to_string(m_limits.maxObjects) + " objects");
    }
    m_arena.emplace_back();
    m_arena.back().type = type;
    return &m_arena.back();
}

void Machine::pushValue(PickleValue value) {
    Node* node = make(NodeType::Value);
    node->value = std::move(value);
    push(node);
}

// As in Python, MARK starts a fresh stack: what lies below the newest mark is
// out of reach until the mark is popped.
Node* Machine::pop() {
    Node* node = top();
    m_stack.pop_back();
    return node;
}

Node* Machine::top() {
    const size_t floor = m_marks.empty() ? 0 : m_marks.back();
    if (m_stack.size() <= floor) corrupt("stack underflow");
    return m_stack.back();
}

std::vector<Node*> Machine::popMark() {
    if (m_marks.empty()) corrupt("MARK expected");
    const size_t mark = m_marks.back();
    m_marks.pop_back();
    std::vector<Node*> items(m_stack.begin() + static_cast<ptrdiff_t>(mark), m_stack.end());
    m_stack.resize(mark);
    return items;
}

std::vector<Node*> Machine::popN(size_t n) {
    const size_t floor = m_marks.empty() ? 0 : m_marks.back();
    if (m_stack.size() < floor + n) corrupt("stack underflow");
    std::vector<Node*> items(m_stack.end() - static_cast<ptrdiff_t>(n), m_stack.end());
    m_stack.resize(m_stack.size() - n);
    return items;
}

bool Machine::stepStack(uint8_t op) {
    switch (op) {
    case MARK:
        m_marks.push_back(m_stack.size());
        return true;
    case POP: // Python pops a mark when the current stack is empty
        if (!m_marks.empty() && m_stack.size() == m_marks.back()) {
            popMark();
        } else {
            pop();
        }
        return true;
    case POP_MARK:
        popMark();
        return true;
    case DUP:
        top()->shared = true;
        push(top());
        return true;
    case BINPUT:
        m_memo[m_in.byte()] = top();
        return true;
    case LONG_BINPUT:
        m_memo[m_in.little(4)] = top();
        return true;
    case MEMOIZE:
        m_memo[m_memo.size()] = top();
        return true;
    case BINGET:
        push(memoGet(m_in.byte()));
        return true;
    case LONG_BINGET:
        push(memoGet(m_in.little(4)));
        return true;
    default:
        return false;
    }
}

Node* Machine::memoGet(uint64_t index) {
    const auto it = m_memo.find(index);
    if (it == m_memo.end()) {
        corrupt("memo entry " + std::to_string(index) + " is not defined");
    }
    it->second->shared = true;
    return it->second;
}

// ---- containers --------------------------------------------------------------

bool Machine::stepContainer(uint8_t op) {
    switch (op) {
    case EMPTY_LIST:
        push(make(NodeType::List));
        return true;
    case EMPTY_TUPLE:
        push(make(NodeType::Tuple));
        return true;
    case EMPTY_DICT:
        push(make(NodeType::Dict));
        return true;
    case LIST:
        push(makeSequence(NodeType::List, popMark()));
        return true;
    case TUPLE:
        push(makeSequence(NodeType::Tuple, popMark()));
        return true;
    case TUPLE1:
    case TUPLE2:
    case TUPLE3:
        push(makeSequence(NodeType::Tuple, popN(op - TUPLE1 + 1u)));
        return true;
    case DICT: {
        const auto keysAndValues = popMark();
        Node* dict = make(NodeType::Dict);
        setItems(dict, keysAndValues);
        push(dict);
        return true;
    }
    case APPEND: {
        Node* v = pop();
        appendItems(top(), {v});
        return true;
    }
    case APPENDS: {
        const auto v = popMark();
        appendItems(top(), v);
        return true;
    }
    case SETITEM: {
        const auto kv = popN(2);
        setItems(top(), kv);
        return true;
    }
    case SETITEMS: {
        const auto kv = popMark();
        setItems(top(), kv);
        return true;
    }
    case EMPTY_SET:
        push(makeSet("builtins.set", {}));
        return true;
    case FROZENSET:
        push(makeSet("builtins.frozenset", popMark()));
        return true;
    case ADDITEMS: {
        const auto v = popMark();
        addToSet(top(), v);
        return true;
    }
    default:
        return false;
    }
}

Node* Machine::makeSequence(NodeType type, std::vector<Node*> items) {
    Node* node = make(type);
    node->items = std::move(items);
    return node;
}

// Sets become opaque objects shaped like protocol 2 writes them:
// builtins.set([item, ...]).
Node* Machine::makeSet(const char* global, std::vector<Node*> items) {
    Node* set = make(NodeType::Object);
    set->global = global;
    set->called = true;
    set->args.push_back(makeSequence(NodeType::List, std::move(items)));
    return set;
}

void Machine::appendItems(Node* target, const std::vector<Node*>& items) {
    if (target->type != NodeType::List && target->type != NodeType::Object) {
        corrupt("APPEND to something that is not a list");
    }
    target->items.insert(target->items.end(), items.begin(), items.end());
}

void Machine::setItems(Node* target, const std::vector<Node*>& keysAndValues) {
    if (target->type != NodeType::Dict && target->type != NodeType::Object) {
        corrupt("SETITEM on something that is not a dict");
    }
    if (keysAndValues.size() % 2 != 0) corrupt("a dict key without value");
    for (size_t i = 0; i < keysAndValues.size(); i += 2) {
        Node* key = keysAndValues[i];
        Node* value = keysAndValues[i + 1];
        if (const auto k = dictKey(key)) {
            const auto [it, isNew] = target->keyIndex.emplace(*k, target->entries.size());
            if (!isNew) {
                target->entries[it->second].second = value;
                continue;
            }
        }
        target->entries.emplace_back(key, value);
    }
}

void Machine::addToSet(Node* target, const std::vector<Node*>& items) {
    if (target->type != NodeType::Object || target->global != "builtins.set" || target->args.size() != 1 ||
        target->args[0]->type != NodeType::List) {
        corrupt("ADDITEMS on something that is not a set");
    }
    auto& elements = target->args[0]->items;
    elements.insert(elements.end(), items.begin(), items.end());
}

// ---- objects -----------------------------------------------------------------

bool Machine::stepObject(uint8_t op) {
    switch (op) {
    case GLOBAL: {
        const std::string module = m_in.line();
        pushGlobal(module, m_in.line());
        return true;
    }
    case STACK_GLOBAL: {
        Node* name = pop();
        Node* module = pop();
        if (name->type != NodeType::Value || module->type != NodeType::Value ||
            !name->value.is(PickleValue::Kind::String) || !module->value.is(PickleValue::Kind::String)) {
            corrupt("STACK_GLOBAL needs two strings");
        }
        pushGlobal(module->value.asString(), name->value.asString());
        return true;
    }
    case REDUCE:
    case NEWOBJ: {
        Node* args = pop();
        push(makeCall(pop(), args, nullptr));
        return true;
    }
    case NEWOBJ_EX: {
        Node* kwargs = pop();
        Node* args = pop();
        push(makeCall(pop(), args, kwargs));
        return true;
    }
    case BUILD: {
        Node* state = pop();
        build(top(), state);
        return true;
    }
    case BINPERSID:
        pushValue(m_resolver.persistentLoad(freeze(pop(), 0)));
        return true;
    default:
        return false;
    }
}

void Machine::pushGlobal(const std::string& module, const std::string& name) {
    Node* global = make(NodeType::Object);
    global->global = sanitizeUtf8(normalizeModule(module) + "." + name);
    push(global);
}

// REDUCE calls global(*args); NEWOBJ calls cls.__new__(cls, *args).  Both
// only record the call: nothing is executed here.
Node* Machine::makeCall(Node* callable, Node* args, Node* kwargs) {
    if (callable->type != NodeType::Object || callable->called) {
        corrupt("call of something that is not a class or function");
    }
    if (args->type != NodeType::Tuple) corrupt("call arguments are not a tuple");
    Node* object = make(NodeType::Object);
    object->global = callable->global;
    object->called = true;
    object->args = args->items;
    if (kwargs && (kwargs->type != NodeType::Dict || !kwargs->entries.empty())) {
        object->args.push_back(kwargs); // keyword arguments, if any, come last
    }
    return object;
}

void Machine::build(Node* target, Node* state) {
    if (target->type != NodeType::Object) {
        corrupt("BUILD on something that is not an object");
    }
    target->state = state;
}

} // namespace segxai::pickle::detail
