package dev.mempipe.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongBinaryOperator;

/**
 * One dimension of an op argument as SPEC.md writes it: a size symbol ({@code d}, {@code n}), a number
 * ({@code 1}), or an expression of symbols and parameters ({@code ceil(L/P)}, {@code min(k,n)}, {@code Hkv*d},
 * {@code N+1}). Parsed once from its text; {@link #eval} computes it from the sizes bound so far.
 *
 * <p>Grammar: {@code sum := product (('+'|'-') product)*; product := atom (('*'|'/') atom)*;
 * atom := number | symbol | ceil(a/b) | min(a,b) | max(a,b) | (sum)}; {@code /} divides integers rounding
 * down. Immutable.
 */
public final class Dim {
    private final String text;
    private final Node node;

    private Dim(String text, Node node) {
        this.text = text;
        this.node = node;
    }

    /** Parses {@code text}; fails naming the text and the position of the first character it cannot read. */
    public static Dim of(String text) {
        Parser p = new Parser(text);
        Node n = p.sum();
        if (p.at < text.length()) {
            throw p.error("unexpected '" + text.charAt(p.at) + "'");
        }
        return new Dim(text, n);
    }

    /** The symbol this dimension is, or null when it is a number or an expression. */
    public String symbol() {
        return node instanceof Sym s ? s.name : null;
    }

    /**
     * The symbol a size of {@code value} binds when this dimension is a symbol plus or minus a number
     * ({@code N+1} of 5 binds N = 4), or null when it is anything else.
     */
    public Map.Entry<String, Long> solve(long value) {
        if (node instanceof Sym s) {
            return Map.entry(s.name, value);
        }
        if (node instanceof Op2 o && o.a instanceof Sym s && o.b instanceof Num n && (o.op == '+' || o.op == '-')) {
            return Map.entry(s.name, o.op == '+' ? value - n.value : value + n.value);
        }
        return null;
    }

    /** Whether this is the number {@code value}. */
    public boolean isLiteral(long value) {
        return node instanceof Num n && n.value == value;
    }

    /** The symbols it reads. */
    public List<String> symbols() {
        List<String> out = new ArrayList<>();
        node.symbols(out);
        return out;
    }

    /** Whether every symbol it reads is bound in {@code sizes}. */
    public boolean computable(Map<String, Long> sizes) {
        return sizes.keySet().containsAll(symbols());
    }

    /** The value from {@code sizes}; fails naming the first unbound symbol. */
    public long eval(Map<String, Long> sizes) {
        return node.eval(sizes);
    }

    @Override
    public String toString() {
        return text;
    }

    // ---- the expression tree ----

    private sealed interface Node permits Num, Sym, Op2 {
        long eval(Map<String, Long> sizes);

        void symbols(List<String> out);
    }

    private record Num(long value) implements Node {
        public long eval(Map<String, Long> sizes) {
            return value;
        }

        public void symbols(List<String> out) {
        }
    }

    private record Sym(String name) implements Node {
        public long eval(Map<String, Long> sizes) {
            Long v = sizes.get(name);
            if (v == null) {
                throw new IllegalStateException("size '" + name + "' is not known yet");
            }
            return v;
        }

        public void symbols(List<String> out) {
            if (!out.contains(name)) {
                out.add(name);
            }
        }
    }

    private record Op2(char op, LongBinaryOperator f, Node a, Node b) implements Node {
        public long eval(Map<String, Long> sizes) {
            return f.applyAsLong(a.eval(sizes), b.eval(sizes));
        }

        public void symbols(List<String> out) {
            a.symbols(out);
            b.symbols(out);
        }
    }

    private static final class Parser {
        private final String text;
        private int at;

        Parser(String text) {
            this.text = text;
        }

        Node sum() {
            Node n = product();
            for (char c; (c = peek()) == '+' || c == '-'; ) {
                at++;
                n = new Op2(c, c == '+' ? Math::addExact : Math::subtractExact, n, product());
            }
            return n;
        }

        Node product() {
            Node n = atom();
            for (char c; (c = peek()) == '*' || c == '/'; ) {
                at++;
                n = new Op2(c, c == '*' ? Math::multiplyExact : Math::floorDiv, n, atom());
            }
            return n;
        }

        Node atom() {
            char c = peek();
            if (Character.isDigit(c)) {
                int start = at;
                while (at < text.length() && Character.isDigit(text.charAt(at))) {
                    at++;
                }
                return new Num(Long.parseLong(text.substring(start, at)));
            }
            if (c == '(') {
                at++;
                Node n = sum();
                expect(')');
                return n;
            }
            if (!Character.isLetter(c)) {
                throw error(c == 0 ? "unexpected end" : "unexpected '" + c + "'");
            }
            int start = at;
            while (at < text.length() && Character.isLetterOrDigit(text.charAt(at))) {
                at++;
            }
            String name = text.substring(start, at);
            if (peek() != '(') {
                return new Sym(name);
            }
            at++;
            Node n = switch (name) {
                case "ceil" -> {
                    Node a = product();
                    if (!(a instanceof Op2 div) || div.op != '/') {
                        throw error("ceil takes a division a/b");
                    }
                    yield new Op2('c', Math::ceilDiv, div.a, div.b);
                }
                case "min", "max" -> {
                    Node a = sum();
                    expect(',');
                    yield new Op2(name.charAt(1), name.equals("min") ? Math::min : Math::max, a, sum());
                }
                default -> throw error("unknown function " + name);
            };
            expect(')');
            return n;
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            at++;
        }

        private char peek() {
            while (at < text.length() && text.charAt(at) == ' ') {
                at++;
            }
            return at < text.length() ? text.charAt(at) : 0;
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("dimension '" + text + "': " + what + " at position " + at);
        }
    }
}
