using System.Text;
using System.Text.Json;

namespace RagPlatform.Tokenizers;

/// <summary>
/// Reads a Hugging Face tokenizer.json (and the tokenizer_config.json beside it, if any). Supported: WordPiece and
/// Unigram models; normalisers BertNormalizer, Precompiled, NFC/NFD/NFKC/NFKD, Replace, Strip, StripAccents,
/// Lowercase, Prepend, Sequence; pre-tokenizers BertPreTokenizer, Metaspace, WhitespaceSplit, Sequence;
/// post-processors TemplateProcessing, BertProcessing, RobertaProcessing (and a Sequence of them). Anything else
/// is refused with a <see cref="NotSupportedException"/> naming it, never silently mis-tokenised.
/// </summary>
public static class TokenizerFile
{
    /// <summary>Reads a tokenizer.json (WordPiece or Unigram model) into a tokenizer.</summary>
    /// <param name="path">The tokenizer.json file, or the model folder holding it.</param>
    public static ITextTokenizer Load(string path) => LoadHuggingFace(path);

    /// <inheritdoc cref="Load"/>
    public static HuggingFaceTokenizer LoadHuggingFace(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string file = Directory.Exists(path) ? Path.Combine(path, "tokenizer.json") : path;
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"No tokenizer.json at '{file}'.", file);
        }

        string configFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "tokenizer_config.json");
        using var config = File.Exists(configFile) ? JsonDocument.Parse(File.ReadAllBytes(configFile)) : null;
        using var document = JsonDocument.Parse(File.ReadAllBytes(file), new JsonDocumentOptions { MaxDepth = 256 });
        try
        {
            return Read(document.RootElement, config?.RootElement);
        }
        catch (Exception exception) when (exception is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"'{file}' is not a tokenizer.json this reader understands: {exception.Message}", exception);
        }
    }

    /// <summary>Reads tokenizer.json content (and optional tokenizer_config.json content) from strings.</summary>
    public static HuggingFaceTokenizer Parse(string tokenizerJson, string? tokenizerConfigJson = null)
    {
        using var document = JsonDocument.Parse(tokenizerJson, new JsonDocumentOptions { MaxDepth = 256 });
        using var config = tokenizerConfigJson is null ? null : JsonDocument.Parse(tokenizerConfigJson);
        return Read(document.RootElement, config?.RootElement);
    }

    private static HuggingFaceTokenizer Read(JsonElement root, JsonElement? config)
    {
        var modelElement = root.GetProperty("model");
        string modelType = modelElement.TryGetProperty("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String
            ? typeElement.GetString()!
            : modelElement.GetProperty("vocab").ValueKind == JsonValueKind.Array ? "Unigram" : "WordPiece";

        var addedTokens = ReadAddedTokens(root);
        var normalizer = ReadNormalizer(Property(root, "normalizer"));

        // The vocabulary with added tokens laid over it (transformers.js's tokens_to_ids).
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        List<(string Piece, double Score)>? pieces = null;
        switch (modelType)
        {
            case "WordPiece":
                foreach (var entry in modelElement.GetProperty("vocab").EnumerateObject())
                {
                    ids[entry.Name] = entry.Value.GetInt32();
                }

                break;
            case "Unigram":
                pieces = [];
                foreach (var entry in modelElement.GetProperty("vocab").EnumerateArray())
                {
                    string piece = entry[0].GetString()!;
                    pieces.Add((piece, entry[1].GetDouble()));
                    ids[piece] = pieces.Count - 1;
                }

                break;
            default:
                throw new NotSupportedException($"Tokenizer model '{modelType}' is not supported (WordPiece and Unigram are).");
        }

        foreach (var token in addedTokens)
        {
            ids[token.Content] = token.Id;
        }

        var vocabulary = new Vocabulary(ids);
        TokenizerModel model;
        if (modelType == "WordPiece")
        {
            string unknown = String(modelElement, "unk_token") ?? "[UNK]";
            model = new WordPieceModel(
                vocabulary,
                vocabulary.Find(unknown) ?? throw new FormatException($"The unk_token '{unknown}' is not in the vocabulary."),
                String(modelElement, "continuing_subword_prefix") ?? "##",
                Int(modelElement, "max_input_chars_per_word") ?? 100);
        }
        else
        {
            int unknownId = Int(modelElement, "unk_id")
                ?? throw new NotSupportedException("A Unigram model without unk_id is not supported (text with unknown characters could not be encoded).");
            model = new UnigramModel(pieces!, vocabulary, unknownId, Bool(modelElement, "byte_fallback") ?? false);
        }

        var normalizedTokens = new AddedTokenSplitter(addedTokens
            .Where(token => token.Normalized && normalizer is not null)
            .Select(token => (normalizer!.Normalize(token.Content), token)));
        // Like transformers.js: added tokens marked "normalized" are matched in the normalised text, the others in
        // the raw text.
        var rawOnly = new AddedTokenSplitter(addedTokens
            .Where(token => !(token.Normalized && normalizer is not null))
            .Select(token => (token.Content, token)));

        return new HuggingFaceTokenizer(
            modelType,
            rawOnly,
            normalizedTokens,
            normalizer,
            ReadPreTokenizer(Property(root, "pre_tokenizer")),
            model,
            ReadTemplate(Property(root, "post_processor"), vocabulary),
            PadId(root, config, vocabulary),
            MaxLength(root, config),
            ids.Count);
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root)
    {
        var tokens = new List<AddedToken>();
        if (Property(root, "added_tokens") is { ValueKind: JsonValueKind.Array } array)
        {
            foreach (var entry in array.EnumerateArray())
            {
                bool special = Bool(entry, "special") ?? false;
                tokens.Add(new AddedToken(
                    entry.GetProperty("content").GetString()!,
                    entry.GetProperty("id").GetInt32(),
                    Bool(entry, "lstrip") ?? false,
                    Bool(entry, "rstrip") ?? false,
                    special,
                    Bool(entry, "normalized") ?? !special));
            }
        }

        return tokens;
    }

    private static TextNormalizer? ReadNormalizer(JsonElement? element)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e)
        {
            return null;
        }

        string type = e.GetProperty("type").GetString()!;
        return type switch
        {
            "BertNormalizer" => new BertNormalizer(
                Bool(e, "clean_text") ?? false,
                Bool(e, "handle_chinese_chars") ?? false,
                Bool(e, "strip_accents"),
                Bool(e, "lowercase") ?? false),
            "Sequence" => new SequenceNormalizer(e.GetProperty("normalizers").EnumerateArray()
                .Select(step => ReadNormalizer(step)).OfType<TextNormalizer>().ToList()),
            "Precompiled" => new PrecompiledNormalizer(String(e, "precompiled_charsmap") is { Length: > 0 } blob
                ? PrecompiledCharsMap.Parse(Convert.FromBase64String(blob))
                : null),
            "NFC" => new UnicodeFormNormalizer(NormalizationForm.FormC),
            "NFD" => new UnicodeFormNormalizer(NormalizationForm.FormD),
            "NFKC" => new UnicodeFormNormalizer(NormalizationForm.FormKC),
            "NFKD" => new UnicodeFormNormalizer(NormalizationForm.FormKD),
            "Lowercase" => new LowercaseNormalizer(),
            "StripAccents" => new StripAccentsNormalizer(),
            "Strip" => new StripNormalizer(Bool(e, "strip_left") ?? false, Bool(e, "strip_right") ?? false),
            "Prepend" => new PrependNormalizer(String(e, "prepend") ?? ""),
            "Replace" => new ReplaceNormalizer(
                Property(e, "pattern") is { } pattern ? String(pattern, "String") : null,
                Property(e, "pattern") is { } regex ? String(regex, "Regex") : null,
                String(e, "content") ?? ""),
            _ => throw new NotSupportedException($"Normalizer '{type}' is not supported."),
        };
    }

    private static PreTokenizer? ReadPreTokenizer(JsonElement? element)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e)
        {
            return null;
        }

        string type = e.GetProperty("type").GetString()!;
        return type switch
        {
            "BertPreTokenizer" => new BertPreTokenizer(),
            "WhitespaceSplit" => new WhitespaceSplitPreTokenizer(),
            "Metaspace" => new MetaspacePreTokenizer(
                (String(e, "replacement") ?? "\u2581")[0],
                String(e, "prepend_scheme") switch
                {
                    "always" => PrependScheme.Always,
                    "first" => PrependScheme.First,
                    "never" => PrependScheme.Never,
                    // Files older than prepend_scheme carry add_prefix_space instead.
                    null => Bool(e, "add_prefix_space") == false ? PrependScheme.Never : PrependScheme.Always,
                    var other => throw new NotSupportedException($"Metaspace prepend_scheme '{other}' is not supported."),
                }),
            "Sequence" => new SequencePreTokenizer(e.GetProperty("pretokenizers").EnumerateArray()
                .Select(step => ReadPreTokenizer(step)).OfType<PreTokenizer>().ToList()),
            _ => throw new NotSupportedException($"Pre-tokenizer '{type}' is not supported."),
        };
    }

    private static SequenceTemplate ReadTemplate(JsonElement? element, Vocabulary vocabulary)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e)
        {
            return SequenceTemplate.None;
        }

        string type = e.GetProperty("type").GetString()!;
        switch (type)
        {
            case "TemplateProcessing":
            {
                var prefix = new List<(int Id, int Type)>();
                var suffix = new List<(int Id, int Type)>();
                int sequenceType = 0;
                bool seenSequence = false;
                foreach (var item in e.GetProperty("single").EnumerateArray())
                {
                    if (item.TryGetProperty("SpecialToken", out var special))
                    {
                        string name = special.GetProperty("id").GetString()!;
                        int id = vocabulary.Find(name)
                            ?? (Property(e, "special_tokens") is { } map && Property(map, name) is { } declared
                                ? declared.GetProperty("ids")[0].GetInt32()
                                : throw new FormatException($"The template's special token '{name}' has no id."));
                        (seenSequence ? suffix : prefix).Add((id, Int(special, "type_id") ?? 0));
                    }
                    else if (item.TryGetProperty("Sequence", out var sequence))
                    {
                        seenSequence = true;
                        sequenceType = Int(sequence, "type_id") ?? 0;
                    }
                }

                return new SequenceTemplate(
                    [.. prefix.Select(p => p.Id)], [.. prefix.Select(p => p.Type)], sequenceType,
                    [.. suffix.Select(s => s.Id)], [.. suffix.Select(s => s.Type)])
                {
                    Pair = Property(e, "pair") is { ValueKind: JsonValueKind.Array } pair ? ReadPairTemplate(e, pair, vocabulary) : null,
                };
            }

            case "BertProcessing" or "RobertaProcessing":
            {
                int cls = vocabulary.Find(e.GetProperty("cls")[0].GetString()) ?? e.GetProperty("cls")[1].GetInt32();
                int sep = vocabulary.Find(e.GetProperty("sep")[0].GetString()) ?? e.GetProperty("sep")[1].GetInt32();

                // BERT: [CLS] A [SEP] B [SEP], B typed 1. RoBERTa/XLM-R: <s> A </s></s> B </s>; their models have one
                // token type (and XLM-R graphs usually no token_type_ids input), so every position is typed 0.
                var pairTemplate = type == "BertProcessing"
                    ? new PairTemplate([(cls, 0)], 0, [(sep, 0)], 1, [(sep, 1)])
                    : new PairTemplate([(cls, 0)], 0, [(sep, 0), (sep, 0)], 0, [(sep, 0)]);
                return new SequenceTemplate([cls], [0], 0, [sep], [0]) { Pair = pairTemplate };
            }

            case "ByteLevel":
                return SequenceTemplate.None;
            case "Sequence":
            {
                // A sequence of processors: the one that adds special tokens decides the template.
                var template = SequenceTemplate.None;
                foreach (var step in e.GetProperty("processors").EnumerateArray())
                {
                    var next = ReadTemplate(step, vocabulary);
                    if (next.SpecialCount > 0)
                    {
                        template = next;
                    }
                }

                return template;
            }

            default:
                throw new NotSupportedException($"Post-processor '{type}' is not supported.");
        }
    }

    private static PairTemplate ReadPairTemplate(JsonElement processor, JsonElement pair, Vocabulary vocabulary)
    {
        var parts = new List<(int Id, int Type)>[] { [], [], [] };
        var sequenceTypes = new int[2];
        var part = 0;
        foreach (var item in pair.EnumerateArray())
        {
            if (item.TryGetProperty("SpecialToken", out var special))
            {
                string name = special.GetProperty("id").GetString()!;
                int id = vocabulary.Find(name)
                    ?? (Property(processor, "special_tokens") is { } map && Property(map, name) is { } declared
                        ? declared.GetProperty("ids")[0].GetInt32()
                        : throw new FormatException($"The pair template's special token '{name}' has no id."));
                parts[part].Add((id, Int(special, "type_id") ?? 0));
            }
            else if (item.TryGetProperty("Sequence", out var sequence))
            {
                var which = String(sequence, "id") == "B" ? 1 : 0;
                if (part > 1 || which != part)
                {
                    throw new NotSupportedException("A pair template must place sequence A before sequence B, once each.");
                }

                sequenceTypes[which] = Int(sequence, "type_id") ?? 0;
                part++;
            }
        }

        return part == 2
            ? new PairTemplate([.. parts[0]], sequenceTypes[0], [.. parts[1]], sequenceTypes[1], [.. parts[2]])
            : throw new NotSupportedException("A pair template must name both sequences A and B.");
    }

    private static int PadId(JsonElement root, JsonElement? config, Vocabulary vocabulary)
    {
        if (config is { } c && (TokenName(c, "pad_token") ?? TokenName(c, "eos_token")) is { } padToken && vocabulary.Find(padToken) is { } configured)
        {
            return configured;
        }

        if (Property(root, "padding") is { ValueKind: JsonValueKind.Object } padding && Int(padding, "pad_id") is { } padId)
        {
            return padId;
        }

        return vocabulary.Find("[PAD]") ?? vocabulary.Find("<pad>") ?? 0;
    }

    private static int? MaxLength(JsonElement root, JsonElement? config)
    {
        // Hugging Face writes 1e30 for "no limit".
        if (config is { } c && Property(c, "model_max_length") is { ValueKind: JsonValueKind.Number } value &&
            value.TryGetDouble(out double max) && max is > 0 and < int.MaxValue)
        {
            return (int)max;
        }

        return Property(root, "truncation") is { ValueKind: JsonValueKind.Object } truncation ? Int(truncation, "max_length") : null;
    }

    // tokenizer_config.json names a token as a string or as {"__type": "AddedToken", "content": ...}.
    private static string? TokenName(JsonElement config, string name) => Property(config, name) switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Object } o => String(o, "content"),
        _ => null,
    };

    private static JsonElement? Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    private static string? String(JsonElement element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static int? Int(JsonElement element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.Number } value ? value.GetInt32() : null;

    private static bool? Bool(JsonElement element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.True or JsonValueKind.False } value ? value.GetBoolean() : null;
}
