using System;
using System.Collections;
using System.Collections.Generic;
using System.Text;
using System.Threading.Tasks;
using AssetGen.Runtime;
using UnityEngine;
using UnityEngine.Networking;

/// <summary>
/// An NPC whose portrait, talking-mouth frames and dialogue lines are made in the game by
/// AssetGen's C# runtime (no Python) from the models in StreamingAssets. Every few seconds it
/// says its next line: the line is shown and the mouth moves with it, each mouth shape timed
/// to the line's words (lip sync from the line's text), until the line has been on screen
/// long enough to read; then the still portrait returns.
/// </summary>
/// <remarks>
/// Lines come from the dialogue model (<see cref="generateLines"/>) or are the text the caller
/// gives (<see cref="lines"/>, or <see cref="Say"/> from your own dialogue system). The
/// default dialogue model's lines are GPL-2.0-or-later (see the package's Third Party
/// Notices); a game that cannot ship them points <see cref="dialogueModel"/> at a copy of the
/// Shakespeare character LSTM (plugins/assetgen_dialogue/shakespeare_model: MIT weights,
/// public-domain training text): <see cref="DialogueGenerator.Open(ModelFolder)"/> runs
/// either, by the folder's manifest. The mouth follows the line through the portraits model's
/// mouth shapes (the shipped label model has them), the words' phones from the CMU
/// Pronouncing Dictionary when <see cref="pronouncingDictionary"/> is there, else from
/// spelling rules; a portraits model without mouth shapes, or a line the text driver refuses
/// (no words, over the 240-frame limit), plays the generic talk loop instead. Lip sync from
/// recorded audio is not in the C# runtime: run the Python side once and ship its Rhubarb cue
/// file (PortraitAnimationOptions.Cues). Model files are read from
/// StreamingAssets/AssetGen/&lt;generator&gt; (Tools > AssetGen > Copy Models to
/// StreamingAssets); on Android and WebGL, where StreamingAssets are not files, they are
/// fetched with UnityWebRequest first. Generation runs on worker threads; textures and
/// sprites are made on the main thread, as Unity requires.
/// </remarks>
[RequireComponent(typeof(SpriteRenderer))]
public class TalkingNpc : MonoBehaviour
{
    [Header("NPC")]
    [Tooltip("The same seed always gives the same face, talk frames and lines")]
    public long npcSeed = 7;
    [Tooltip("Frames of the generic talk loop (played when a line cannot be lip-synced)")]
    [Range(6, 12)] public int talkFrames = 8;
    [Tooltip("Frame rate of the talk frames, lip-synced or looped (1 to 60)")]
    public float talkFramesPerSecond = 12f;
    [Tooltip("Mouth shapes timed to each line, from its text (a portraits model with mouth shapes); off: the generic talk loop")]
    public bool lipSync = true;
    [Tooltip("0 to 1.5: lower gives more typical faces")]
    public float truncation = 1f;
    public float pixelsPerUnit = 32f;

    [Header("Lines")]
    [Tooltip("Generate the lines with the dialogue model (the default model's text is GPL-2.0-or-later; the Shakespeare model's is not); off: say the lines below")]
    public bool generateLines = true;
    [Range(1, 10)] public int dialogueLines = 3;
    [Tooltip("The dialogue model's role: random, or one of the model's archetypes (guard, merchant...; Shakespeare model: noble, fool...)")]
    public string archetype = "random";
    [TextArea] public string[] lines = { "Well met, traveller! The road north is closed." };
    public float secondsBetweenLines = 2f;

    [Header("Models (folders under StreamingAssets)")]
    public string portraitsModel = "AssetGen/portraits";
    [Tooltip("The default GPT, or a copy of shakespeare_model (e.g. AssetGen/dialogue_shakespeare)")]
    public string dialogueModel = "AssetGen/dialogue";
    [Tooltip("Optional: the CMU Pronouncing Dictionary (pocketsphinx's model/en-us/cmudict-en-us.dict) for the lip sync's phones; missing: spelling rules")]
    public string pronouncingDictionary = "AssetGen/cmudict-en-us.dict";

    SpriteRenderer spriteRenderer;
    Task<Generated> generating;
    Sprite portrait;
    Sprite[] talk;
    Sprite[] lineFrames;          // the lip-synced frames of the line being said
    Coroutine speaking;
    string shownLine = "";
    string error;
    // kept open for the lip sync of each line (Say), used by one worker at a time
    PortraitsGenerator portraits;
    readonly object portraitsLock = new object();
    long faceSeed;
    float faceTruncation;
    double lipSyncFps;
    byte[] dictionaryBytes;

    sealed class Generated
    {
        public PortraitImage Portrait;
        public PortraitAnimation Talk;
        public string[] Lines;
    }

    void Awake()
    {
        spriteRenderer = GetComponent<SpriteRenderer>();
    }

    IEnumerator Start()
    {
        var models = new Dictionary<string, Func<ModelFolder>>(StringComparer.Ordinal);
        yield return Open(portraitsModel, models);
        if (generateLines)
            yield return Open(dialogueModel, models);
        if (error != null) yield break;
        if (lipSync && !string.IsNullOrEmpty(pronouncingDictionary))
            yield return ReadOptional(pronouncingDictionary);

        long seed = npcSeed;
        faceSeed = seed;
        faceTruncation = truncation;
        lipSyncFps = talkFramesPerSecond;
        byte[] dictionary = dictionaryBytes;
        dictionaryBytes = null;
        int frames = talkFrames, count = dialogueLines;
        bool generate = generateLines;
        var still = new PortraitOptions { Truncation = truncation };
        var talking = new PortraitAnimationOptions { Animation = "talk", Truncation = truncation, Fps = talkFramesPerSecond };
        var speech = new DialogueOptions { Archetype = archetype };
        Func<ModelFolder> openPortraits = models[portraitsModel];
        Func<ModelFolder> openDialogue = generate ? models[dialogueModel] : null;
        generating = Task.Run(() =>
        {
            var made = new Generated();
            var generator = new PortraitsGenerator(openPortraits());
            lock (portraitsLock)
                portraits = generator;
            if (dictionary != null)
                generator.Pronunciations = PronouncingDictionary.FromBytes(dictionary);
            lock (portraitsLock)
            {
                made.Portrait = generator.Generate(seed, still);
                made.Talk = generator.Animate(seed, frames, talking);
            }
            if (generate)
                // the GPT or the Shakespeare character LSTM, by the folder's manifest
                using (var dialogue = DialogueGenerator.Open(openDialogue()))
                {
                    var seeds = new long[count];
                    for (int i = 0; i < count; i++) seeds[i] = seed + i;  // item k = seed + k
                    made.Lines = dialogue.GenerateBatch(seeds, speech).ConvertAll(line => line.Text).ToArray();
                }
            return made;
        });
    }

    // a way to open the model folder under StreamingAssets/<folder>, in models[folder]
    IEnumerator Open(string folder, Dictionary<string, Func<ModelFolder>> models)
    {
        string root = Application.streamingAssetsPath + "/" + folder;
        if (!root.Contains("://"))
        {
            models[folder] = () => new ModelFolder(root);
            yield break;
        }
        // Android (jar:file://) and WebGL (http://): fetch the manifest, then every file it lists
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        yield return Fetch(root, ModelFolder.ManifestName, files);
        if (error != null) yield break;
        var manifest = Json.Parse(Encoding.UTF8.GetString(files[ModelFolder.ManifestName])) as Dictionary<string, object>;
        object listed = null;
        if (manifest != null) manifest.TryGetValue("files", out listed);
        var names = listed as Dictionary<string, object>;
        if (names != null)
            foreach (string name in names.Keys)
            {
                yield return Fetch(root, name, files);
                if (error != null) yield break;
            }
        models[folder] = () => new ModelFolder(root, name =>
        {
            byte[] bytes;
            if (!files.TryGetValue(name, out bytes)) throw new System.IO.FileNotFoundException(name);
            return bytes;
        });
    }

    // an optional file under StreamingAssets (the pronouncing dictionary) into dictionaryBytes;
    // missing: a warning, and the lip sync spells the words out by rule
    IEnumerator ReadOptional(string file)
    {
        string path = Application.streamingAssetsPath + "/" + file;
        if (!path.Contains("://"))
        {
            if (System.IO.File.Exists(path))
                dictionaryBytes = System.IO.File.ReadAllBytes(path);
            else
                Debug.LogWarning("TalkingNpc: no " + path + "; the lip sync takes the words' phones from spelling rules");
            yield break;
        }
        using (var request = UnityWebRequest.Get(path))
        {
            yield return request.SendWebRequest();
            if (request.result == UnityWebRequest.Result.Success)
                dictionaryBytes = request.downloadHandler.data;
            else
                Debug.LogWarning("TalkingNpc: cannot read " + path + " (" + request.error + "); the lip sync takes the words' phones from spelling rules");
        }
    }

    IEnumerator Fetch(string root, string name, Dictionary<string, byte[]> files)
    {
        using (var request = UnityWebRequest.Get(root + "/" + name))
        {
            yield return request.SendWebRequest();
            if (request.result != UnityWebRequest.Result.Success)
                Fail("cannot read " + root + "/" + name + ": " + request.error);
            else
                files[name] = request.downloadHandler.data;
        }
    }

    void Update()
    {
        if (generating == null || !generating.IsCompleted)
            return;
        var done = generating;
        generating = null;
        if (done.IsFaulted)
        {
            // ModelException, InvalidOptionsException, OnnxRuntimeException: their messages say what to fix
            Fail(done.Exception.GetBaseException().Message);
            return;
        }
        var talkAnimation = done.Result.Talk;
        portrait = ToSprite(done.Result.Portrait.Rgba, done.Result.Portrait.Width, done.Result.Portrait.Height);
        talk = new Sprite[talkAnimation.Frames.Count];
        for (int i = 0; i < talk.Length; i++)
            talk[i] = ToSprite(talkAnimation.Frames[i], talkAnimation.Width, talkAnimation.Height);
        if (done.Result.Lines != null)
            lines = done.Result.Lines;
        spriteRenderer.sprite = portrait;
        if (lines != null && lines.Length > 0)
            StartCoroutine(Converse());
    }

    IEnumerator Converse()
    {
        for (int next = 0; ; next = (next + 1) % lines.Length)
        {
            yield return new WaitForSeconds(secondsBetweenLines);
            yield return Speak(lines[next]);
        }
    }

    /// <summary>Shows <paramref name="line"/> and moves the mouth with it (lip sync from its
    /// text, else the talk loop) while it is read; for a line from your own dialogue system.
    /// Does nothing until the portrait is made.</summary>
    public void Say(string line)
    {
        if (talk == null) return;
        if (speaking != null) StopCoroutine(speaking);
        speaking = StartCoroutine(Speak(line));
    }

    IEnumerator Speak(string line)
    {
        DestroyLineFrames();
        shownLine = line;
        float readingTime = Mathf.Max(1.5f, 0.06f * line.Length);
        float frameTime = 1f / Mathf.Max(1f, talkFramesPerSecond);
        float shown = 0f;
        if (lipSync)
        {
            // the mouth shapes of this line, made on a worker thread (a few frames' time)
            var saying = Task.Run(() => LipSyncFrames(line));
            while (!saying.IsCompleted)
                yield return null;
            if (saying.IsFaulted)
                // e.g. a line with no words, or over the 240-frame limit: the talk loop
                Debug.LogWarning("TalkingNpc: no lip sync for this line (" + saying.Exception.GetBaseException().Message + "); the talk loop plays");
            else if (saying.Result != null)
            {
                var said = saying.Result;
                lineFrames = new Sprite[said.Frames.Count];
                for (int i = 0; i < lineFrames.Length; i++)
                    lineFrames[i] = ToSprite(said.Frames[i], said.Width, said.Height);
                float saidFrameTime = (float)(1.0 / said.Fps);
                // each frame once: the shapes are timed to the line's words
                foreach (var frame in lineFrames)
                {
                    spriteRenderer.sprite = frame;
                    yield return new WaitForSeconds(saidFrameTime);
                    shown += saidFrameTime;
                }
                spriteRenderer.sprite = portrait;
                if (shown < readingTime)
                    yield return new WaitForSeconds(readingTime - shown);
                DestroyLineFrames();
                shownLine = "";
                yield break;
            }
        }
        for (; shown < readingTime; shown += frameTime)
        {
            spriteRenderer.sprite = talk[Mathf.FloorToInt(shown / frameTime) % talk.Length];
            yield return new WaitForSeconds(frameTime);
        }
        spriteRenderer.sprite = portrait;
        shownLine = "";
    }

    // the talk from the line's text, as many frames as the line takes at the frame rate; null
    // when the portraits model has no mouth shapes (the runtime throws NotSupportedException)
    PortraitAnimation LipSyncFrames(string line)
    {
        lock (portraitsLock)
        {
            if (portraits == null)
                return null;
            var options = new PortraitAnimationOptions { Animation = "talk", Text = line, Fps = lipSyncFps, Truncation = faceTruncation };
            try
            {
                return portraits.Animate(faceSeed, options);
            }
            catch (NotSupportedException)
            {
                return null;
            }
        }
    }

    void DestroyLineFrames()
    {
        if (lineFrames == null)
            return;
        spriteRenderer.sprite = portrait;
        foreach (var sprite in lineFrames)
            DestroySprite(sprite);
        lineFrames = null;
    }

    void Fail(string message)
    {
        error = message;
        Debug.LogError("TalkingNpc: " + message, this);
    }

    void OnGUI()
    {
        var message = error ?? shownLine;
        if (!string.IsNullOrEmpty(message))
            GUI.Box(new Rect(10, Screen.height - 70, Screen.width - 20, 60), message);
    }

    void OnDestroy()
    {
        lock (portraitsLock)
        {
            if (portraits != null)
                portraits.Dispose();
            portraits = null;
        }
        DestroyLineFrames();
        if (portrait != null)
            DestroySprite(portrait);
        if (talk != null)
            foreach (var sprite in talk)
                DestroySprite(sprite);
    }

    Sprite ToSprite(byte[] rgba, int width, int height)
    {
        // the runtime's rows run top down; Unity's textures start at the bottom row
        int stride = width * 4;
        var flipped = new byte[rgba.Length];
        for (int row = 0; row < height; row++)
            Buffer.BlockCopy(rgba, row * stride, flipped, (height - 1 - row) * stride, stride);
        var texture = new Texture2D(width, height, TextureFormat.RGBA32, false)
        {
            filterMode = FilterMode.Point,
            wrapMode = TextureWrapMode.Clamp,
        };
        texture.LoadRawTextureData(flipped);
        texture.Apply(false, true);
        return Sprite.Create(texture, new Rect(0, 0, width, height), new Vector2(0.5f, 0.5f), pixelsPerUnit);
    }

    static void DestroySprite(Sprite sprite)
    {
        Destroy(sprite.texture);
        Destroy(sprite);
    }
}
