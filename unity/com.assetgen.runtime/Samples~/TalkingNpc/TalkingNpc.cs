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
/// says its next line: the line is shown and the talk frames play until it has been on screen
/// long enough to read; then the still portrait returns.
/// </summary>
/// <remarks>
/// Lines come from the dialogue model (<see cref="generateLines"/>; its lines are
/// GPL-2.0-or-later, see the package's Third Party Notices) or are the text the caller gives
/// (<see cref="lines"/>, or <see cref="Say"/> from your own dialogue system). Model files are
/// read from StreamingAssets/AssetGen/&lt;generator&gt; (Tools > AssetGen > Copy Models to
/// StreamingAssets); on Android and WebGL, where StreamingAssets are not files, they are
/// fetched with UnityWebRequest first. Generation runs on a worker thread; textures and
/// sprites are made on the main thread, as Unity requires.
/// </remarks>
[RequireComponent(typeof(SpriteRenderer))]
public class TalkingNpc : MonoBehaviour
{
    [Header("NPC")]
    [Tooltip("The same seed always gives the same face, talk frames and lines")]
    public long npcSeed = 7;
    [Range(6, 12)] public int talkFrames = 8;
    public float talkFramesPerSecond = 12f;
    [Tooltip("0 to 1.5: lower gives more typical faces")]
    public float truncation = 1f;
    public float pixelsPerUnit = 32f;

    [Header("Lines")]
    [Tooltip("Generate the lines with the dialogue model (GPL-2.0-or-later text); off: say the lines below")]
    public bool generateLines = true;
    [Range(1, 10)] public int dialogueLines = 3;
    [Tooltip("The dialogue model's role: random, or one of the model's archetypes (guard, merchant...)")]
    public string archetype = "random";
    [TextArea] public string[] lines = { "Well met, traveller! The road north is closed." };
    public float secondsBetweenLines = 2f;

    [Header("Models (folders under StreamingAssets)")]
    public string portraitsModel = "AssetGen/portraits";
    public string dialogueModel = "AssetGen/dialogue";

    SpriteRenderer spriteRenderer;
    Task<Generated> generating;
    Sprite portrait;
    Sprite[] talk;
    Coroutine speaking;
    string shownLine = "";
    string error;

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

        long seed = npcSeed;
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
            using (var portraits = new PortraitsGenerator(openPortraits()))
            {
                made.Portrait = portraits.Generate(seed, still);
                made.Talk = portraits.Animate(seed, frames, talking);
            }
            if (generate)
                using (var dialogue = new DialogueGenerator(openDialogue()))
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

    /// <summary>Shows <paramref name="line"/> and plays the talk frames while it is read; for
    /// a line from your own dialogue system. Does nothing until the frames are made.</summary>
    public void Say(string line)
    {
        if (talk == null) return;
        if (speaking != null) StopCoroutine(speaking);
        speaking = StartCoroutine(Speak(line));
    }

    IEnumerator Speak(string line)
    {
        shownLine = line;
        float readingTime = Mathf.Max(1.5f, 0.06f * line.Length);
        float frameTime = 1f / Mathf.Max(1f, talkFramesPerSecond);
        for (float shown = 0f; shown < readingTime; shown += frameTime)
        {
            spriteRenderer.sprite = talk[Mathf.FloorToInt(shown / frameTime) % talk.Length];
            yield return new WaitForSeconds(frameTime);
        }
        spriteRenderer.sprite = portrait;
        shownLine = "";
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
