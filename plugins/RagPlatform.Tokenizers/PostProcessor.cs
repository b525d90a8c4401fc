namespace RagPlatform.Tokenizers;

/// <summary>
/// The single-sequence template a post-processor declares (TemplateProcessing, BertProcessing, RobertaProcessing):
/// special token ids before and after the text, and the type id of each position.
/// </summary>
internal sealed record SequenceTemplate(int[] Prefix, int[] PrefixTypeIds, int SequenceTypeId, int[] Suffix, int[] SuffixTypeIds)
{
    public static readonly SequenceTemplate None = new([], [], 0, [], []);

    public int SpecialCount => Prefix.Length + Suffix.Length;
}
