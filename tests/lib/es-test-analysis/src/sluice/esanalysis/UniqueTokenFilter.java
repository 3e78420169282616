/* UniqueTokenFilter: passes the first token of each text in a stream and
 * drops the ones that repeat it; FilteringTokenFilter carries a dropped
 * token's position increment over to the next token kept. */
package sluice.esanalysis;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.FilteringTokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;

final class UniqueTokenFilter extends FilteringTokenFilter {
    private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
    private final CharArraySet seen = new CharArraySet(8, false);

    UniqueTokenFilter(TokenStream in) {
        super(in);
    }

    @Override
    protected boolean accept() {
        if (seen.contains(term.buffer(), 0, term.length())) {
            return false;
        }
        seen.add(term.toString());
        return true;
    }

    @Override
    public void reset() throws java.io.IOException {
        super.reset();
        seen.clear();
    }
}
