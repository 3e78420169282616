/* SluiceTestAnalysisPlugin: for tests only. The Elasticsearch 8
 * integ-test-zip that tests/lib/services.sh runs has no analysis-common
 * module, and the settings of the .security index name three analysis
 * components from it: the token filters pattern_capture and unique and the
 * tokenizer uax_url_email. Without them the index cannot be created, so
 * POST /_security/api_key answers 400 ("Unknown filter type
 * [pattern_capture] for [email]") and es_tls could make no API key.
 *
 * This plugin registers those three names, built on the Lucene classes the
 * zip already ships (lucene-analysis-common in lib/), with the settings the
 * .security index uses: pattern_capture's patterns and preserve_original,
 * uax_url_email's max_token_length, unique's only_on_same_position.
 * Nothing else; the node's other analysis is untouched.
 *
 * Built and installed by install.sh (scripts/setup runs it). */
package sluice.esanalysis;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.miscellaneous.RemoveDuplicatesTokenFilter;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

public final class SluiceTestAnalysisPlugin extends Plugin implements AnalysisPlugin {

    /* A token filter factory from its name and a wrapping function. */
    private record Filter(String name, UnaryOperator<TokenStream> wrap)
            implements TokenFilterFactory {
        @Override
        public TokenStream create(TokenStream in) {
            return wrap.apply(in);
        }
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
                "pattern_capture",
                AnalysisPlugin.requiresAnalysisSettings(SluiceTestAnalysisPlugin::patternCapture),
                "unique", SluiceTestAnalysisPlugin::unique);
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("uax_url_email", SluiceTestAnalysisPlugin::uaxUrlEmail);
    }

    /* Emits each capture group of each pattern as a token (and the
     * original token unless preserve_original is false). */
    private static TokenFilterFactory patternCapture(IndexSettings index, Environment env,
            String name, Settings settings) {
        List<String> sources = settings.getAsList("patterns");
        if (sources.isEmpty()) {
            throw new IllegalArgumentException(
                    "pattern_capture filter [" + name + "] has no [patterns]; give at least one");
        }
        Pattern[] patterns = new Pattern[sources.size()];
        for (int i = 0; i < patterns.length; i++) {
            patterns[i] = Pattern.compile(sources.get(i));
        }
        boolean keep = settings.getAsBoolean("preserve_original", true);
        return new Filter(name, in -> new PatternCaptureGroupTokenFilter(in, keep, patterns));
    }

    /* Drops a token whose text was seen before: anywhere in the stream, or
     * with only_on_same_position, at the same position only. */
    private static TokenFilterFactory unique(IndexSettings index, Environment env,
            String name, Settings settings) {
        if (settings.getAsBoolean("only_on_same_position", false)) {
            return new Filter(name, RemoveDuplicatesTokenFilter::new);
        }
        return new Filter(name, UniqueTokenFilter::new);
    }

    /* Unicode word breaks that keep URLs and e-mail addresses whole. */
    private static TokenizerFactory uaxUrlEmail(IndexSettings index, Environment env,
            String name, Settings settings) {
        int max = settings.getAsInt("max_token_length", StandardAnalyzer.DEFAULT_MAX_TOKEN_LENGTH);
        return TokenizerFactory.newFactory(name, () -> {
            UAX29URLEmailTokenizer tokenizer = new UAX29URLEmailTokenizer();
            tokenizer.setMaxTokenLength(max);
            return tokenizer;
        });
    }
}
