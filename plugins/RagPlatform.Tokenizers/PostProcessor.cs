namespace RagPlatform.Tokenizers;

/// <summary>
/// The single-sequence template a post-processor declares (TemplateProcessing, BertProcessing, RobertaProcessing):
/// special token ids before and after the text, and the type id of each position.
/// </summary>
internal sealed record SequenceTemplate(int[] Prefix, int[] PrefixTypeIds, int SequenceTypeId, int[] Suffix, int[] SuffixTypeIds)
{
    public static readonly SequenceTemplate None = new([], [], 0, [], []);

    public int SpecialCount => Prefix.Length + Suffix.Length;

    /// <summary>The template for two sequences (a cross-encoder's query and passage), when the post-processor declares one.</summary>
    public PairTemplate? Pair { get; init; }
}

/// <summary>
/// The two-sequence template: specials, the first sequence, specials, the second sequence, specials, each position
/// with its type id (BERT: [CLS] A [SEP] B [SEP] with B's type 1; XLM-R: &lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;).
/// </summary>
internal sealed record PairTemplate(
    (int Id, int Type)[] Prefix, int FirstTypeId, (int Id, int Type)[] Middle, int SecondTypeId, (int Id, int Type)[] Suffix)
{
    public int SpecialCount => Prefix.Length + Middle.Length + Suffix.Length;
}
