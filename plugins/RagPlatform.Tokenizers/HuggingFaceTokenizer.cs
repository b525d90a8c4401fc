namespace RagPlatform.Tokenizers;

/// <summary>
/// A tokenizer.json pipeline: added tokens split out of the raw text; normaliser; added tokens split out of the
/// normalised text; pre-tokenizer; model (WordPiece or Unigram); the post-processor's special tokens. Every step
/// follows transformers.js, whose ids are the reference. Immutable after loading: one instance serves all threads.
/// </summary>
public sealed class HuggingFaceTokenizer : ITextTokenizer
{
    private readonly AddedTokenSplitter rawSplitter;
    private readonly AddedTokenSplitter normalizedSplitter;
    private readonly TextNormalizer? normalizer;
    private readonly PreTokenizer? preTokenizer;
    private readonly TokenizerModel model;
    private readonly SequenceTemplate template;

    internal HuggingFaceTokenizer(
        string modelType,
        AddedTokenSplitter rawSplitter,
        AddedTokenSplitter normalizedSplitter,
        TextNormalizer? normalizer,
        PreTokenizer? preTokenizer,
        TokenizerModel model,
        SequenceTemplate template,
        int padTokenId,
        int? modelMaxLength,
        int vocabularySize)
    {
        ModelType = modelType;
        this.rawSplitter = rawSplitter;
        this.normalizedSplitter = normalizedSplitter;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.template = template;
        PadTokenId = padTokenId;
        ModelMaxLength = modelMaxLength;
        VocabularySize = vocabularySize;
    }

    /// <summary>"WordPiece" or "Unigram".</summary>
    public string ModelType { get; }

    public int PadTokenId { get; }

    /// <summary>tokenizer_config.json's model_max_length (else the file's truncation max_length), if declared.</summary>
    public int? ModelMaxLength { get; }

    /// <summary>How many special tokens the post-processor adds to one text ([CLS] + [SEP]: 2).</summary>
    public int SpecialTokenCount => template.SpecialCount;

    public int VocabularySize { get; }

    public TokenizedText Encode(string text, int maxLength)
    {
        var scratch = EncodeScratch.Current;
        var content = scratch.Ids;
        EncodeContent(text, scratch);
        int length = OutputLength(content.Count, maxLength);
        var ids = new int[length];
        var typeIds = new int[length];
        Write(content, length, ids, typeIds);
        return new TokenizedText(ids, typeIds);
    }

    /// <summary>
    /// Encodes into caller buffers (ONNX input tensors are int64), returning the token count; nothing is allocated
    /// beyond the normalised text. The buffers must hold at least min(maxLength, the text's token count) values.
    /// </summary>
    public int EncodeInto(string text, int maxLength, Span<long> inputIds, Span<long> typeIds)
    {
        var scratch = EncodeScratch.Current;
        var content = scratch.Ids;
        EncodeContent(text, scratch);
        int length = OutputLength(content.Count, maxLength);
        if (inputIds.Length < length || typeIds.Length < length)
        {
            throw new ArgumentException($"The buffers hold {Math.Min(inputIds.Length, typeIds.Length)} tokens; this text needs {length}.");
        }

        Write(content, length, inputIds, typeIds);
        return length;
    }

    public TokenizedText EncodePair(string first, string second, int maxLength)
    {
        var pair = template.Pair ?? throw new NotSupportedException(
            "This tokenizer.json's post-processor declares no template for text pairs, so it cannot feed a cross-encoder.");
        var budget = maxLength - pair.SpecialCount;
        if (budget < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"maxLength must leave room for the {pair.SpecialCount} special tokens and both texts.");
        }

        var scratch = EncodeScratch.Current;
        EncodeContent(first, scratch);
        var firstIds = scratch.Ids.ToArray();
        EncodeContent(second, scratch);
        var secondIds = scratch.Ids;
        var (firstLength, secondLength) = LongestFirst(firstIds.Length, secondIds.Count, budget);

        var length = pair.SpecialCount + firstLength + secondLength;
        var ids = new int[length];
        var typeIds = new int[length];
        var k = 0;
        void Special((int Id, int Type)[] tokens)
        {
            foreach (var (id, type) in tokens)
            {
                ids[k] = id;
                typeIds[k++] = type;
            }
        }

        Special(pair.Prefix);
        for (var i = 0; i < firstLength; i++, k++)
        {
            ids[k] = firstIds[i];
            typeIds[k] = pair.FirstTypeId;
        }

        Special(pair.Middle);
        for (var i = 0; i < secondLength; i++, k++)
        {
            ids[k] = secondIds[i];
            typeIds[k] = pair.SecondTypeId;
        }

        Special(pair.Suffix);
        return new TokenizedText(ids, typeIds);
    }

    /// <summary>
    /// Hugging Face's <c>longest_first</c> truncation of two sequences into <paramref name="budget"/> tokens: the
    /// shorter keeps what it has while that leaves the longer at least as much; otherwise both get half (the longer
    /// the odd token).
    /// </summary>
    internal static (int First, int Second) LongestFirst(int first, int second, int budget)
    {
        if (first + second <= budget)
        {
            return (first, second);
        }

        var swap = first > second;
        var (shorter, longer) = swap ? (second, first) : (first, second);
        longer = Math.Max(shorter, budget - shorter);
        if (shorter + longer > budget)
        {
            shorter = budget / 2;
            longer = shorter + (budget % 2);
        }

        return swap ? (longer, shorter) : (shorter, longer);
    }

    public int CountTokens(string text)
    {
        var scratch = EncodeScratch.Current;
        EncodeContent(text, scratch);
        return scratch.Ids.Count + template.SpecialCount;
    }

    private int OutputLength(int contentCount, int maxLength)
    {
        if (maxLength < template.SpecialCount || maxLength <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength,
                $"maxLength must leave room for the {template.SpecialCount} special tokens.");
        }

        // Truncation keeps the special tokens (Hugging Face's rule): the text is cut, [SEP] / </s> stays last.
        return Math.Min(contentCount, maxLength - template.SpecialCount) + template.SpecialCount;
    }

    private void Write<T>(List<int> content, int length, Span<T> ids, Span<T> typeIds)
        where T : struct, System.Numerics.INumber<T>
    {
        int k = 0;
        for (int i = 0; i < template.Prefix.Length; i++, k++)
        {
            ids[k] = T.CreateTruncating(template.Prefix[i]);
            typeIds[k] = T.CreateTruncating(template.PrefixTypeIds[i]);
        }

        int contentCount = length - template.SpecialCount;
        var sequenceType = T.CreateTruncating(template.SequenceTypeId);
        for (int i = 0; i < contentCount; i++, k++)
        {
            ids[k] = T.CreateTruncating(content[i]);
            typeIds[k] = sequenceType;
        }

        for (int i = 0; i < template.Suffix.Length; i++, k++)
        {
            ids[k] = T.CreateTruncating(template.Suffix[i]);
            typeIds[k] = T.CreateTruncating(template.SuffixTypeIds[i]);
        }
    }

    // The text's token ids without the post-processor's special tokens, into scratch.Ids.
    private void EncodeContent(string text, EncodeScratch scratch)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = scratch.Ids;
        ids.Clear();
        if (text.Length == 0)
        {
            return;
        }

        var sections = scratch.Sections;
        sections.Clear();
        if (rawSplitter.IsEmpty)
        {
            sections.Add((text, null));
        }
        else
        {
            rawSplitter.Split(text, sections);
            AddedTokenSplitter.ApplyStrips(sections);
        }

        for (int sectionIndex = 0; sectionIndex < sections.Count; sectionIndex++)
        {
            var (sectionText, token) = sections[sectionIndex];
            if (sectionText.Length == 0)
            {
                continue;
            }

            if (token is not null && sectionText == token.Content)
            {
                ids.Add(token.Id);
                continue;
            }

            string normalized = normalizer is null ? sectionText : normalizer.Normalize(sectionText);
            if (normalized.Length == 0)
            {
                continue;
            }

            if (normalizedSplitter.IsEmpty)
            {
                EncodePlain(normalized, sectionIndex, scratch);
                continue;
            }

            var subsections = scratch.Subsections;
            subsections.Clear();
            normalizedSplitter.Split(normalized, subsections);
            AddedTokenSplitter.ApplyStrips(subsections);
            foreach (var (subText, subToken) in subsections)
            {
                if (subText.Length == 0)
                {
                    continue;
                }

                if (subToken is not null && subText == subToken.Content)
                {
                    ids.Add(subToken.Id);
                }
                else
                {
                    EncodePlain(subText, sectionIndex, scratch);
                }
            }
        }
    }

    private void EncodePlain(string text, int sectionIndex, EncodeScratch scratch)
    {
        var words = scratch.Words;
        words.Clear();
        var whole = new Segment(text, 0, text.Length);
        if (preTokenizer is null)
        {
            words.Add(whole);
        }
        else
        {
            preTokenizer.PreTokenize(whole, sectionIndex, words);
        }

        model.Encode(words, scratch.Ids, scratch);
    }
}
