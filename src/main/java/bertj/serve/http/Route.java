package bertj.serve.http;

import java.util.List;

/** The endpoints, their methods, and whether they are open without an API key (as in TEI: health and metrics). */
public enum Route {
    EMBED("POST", false, "/embed"),
    OPENAI_EMBEDDINGS("POST", false, "/v1/embeddings", "/embeddings"),
    SIMILARITY("POST", false, "/similarity"),
    TOKENIZE("POST", false, "/tokenize"),
    QA("POST", false, "/qa"),
    HEALTH("GET", true, "/health"),
    INFO("GET", false, "/info"),
    METRICS("GET", true, "/metrics");

    private final String method;
    private final boolean open;
    private final List<String> paths;

    Route(String method, boolean open, String... paths) {
        this.method = method;
        this.open = open;
        this.paths = List.of(paths);
    }

    public String method() {
        return method;
    }

    /** Served without an API key. */
    public boolean open() {
        return open;
    }

    /** The main path (the first). */
    public String path() {
        return paths.get(0);
    }

    /** The route of a path (a trailing slash allowed), or null. */
    public static Route of(String path) {
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        for (Route r : values()) if (r.paths.contains(p)) return r;
        return null;
    }

    /** "POST /embed, POST /v1/embeddings, …" for error messages. */
    public static String list() {
        StringBuilder sb = new StringBuilder();
        for (Route r : values()) sb.append(sb.isEmpty() ? "" : ", ").append(r.method).append(' ').append(r.path());
        return sb.toString();
    }
}
